/**
 * Embeddings for looking at high-dimensional data: t-SNE (through the npm package
 * `@keckelt/tsne`, seeded and validated), the k-NN label agreement that scores how well an
 * embedding keeps classes together, and seeded k-means with the purity of its clusters.
 * @module
 */
export * from "./tsne.ts";
export * from "./neighbours.ts";
export * from "./kmeans.ts";
