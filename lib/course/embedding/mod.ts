/**
 * Embeddings for looking at high-dimensional data: t-SNE (through the npm package
 * `@keckelt/tsne`, seeded and validated) and the k-NN label agreement that scores how well an
 * embedding keeps classes together.
 * @module
 */
export * from "./tsne.ts";
export * from "./neighbours.ts";
