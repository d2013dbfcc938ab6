/**
 * The course's library exercises (students fill labelled regions in these `lib/` files; the
 * listed tests grade them). See `course.ts`.
 * @module
 */
import type { LibraryExercise } from "./course.ts";

/** The library exercises handed out with the notebooks. */
export const LIBRARY_EXERCISES: LibraryExercise[] = [
  // VAE sheet (notebooks/05_vae.ipynb; its notebook exercises are ex4 and ex5).
  {
    id: "ex1-reparameterize",
    files: ["lib/models/vae/model.ts"],
    tests: ["tests/vae/reparameterize_test.ts"],
    points: 2,
  },
  {
    id: "ex2-gaussianKl",
    files: ["lib/models/vae/kl.ts"],
    tests: ["tests/vae/gaussian_kl_test.ts"],
    points: 3,
  },
  {
    id: "ex3-vaeLoss",
    files: ["lib/models/vae/loss.ts"],
    tests: ["tests/vae/vae_loss_test.ts", "tests/vae/fixed_batch_test.ts"],
    points: 4,
  },
  // Its task 1.3, exploring the latent space: the sheet's get_mu_logvar and sample_on_grid
  // (notebook 05's ex4-classMeans draws the crosses from getMuLogvar's output).
  {
    id: "ex4-getMuLogvar",
    files: ["lib/models/vae/latent.ts"],
    tests: ["tests/vae/get_mu_logvar_test.ts"],
    points: 1,
  },
  {
    id: "ex4-sampleOnGrid",
    files: ["lib/models/vae/latent.ts"],
    tests: ["tests/vae/sample_on_grid_test.ts"],
    points: 1,
  },
  // GAN part of the same sheet (notebooks/06_gan_and_2d_densities.ipynb; its notebook exercises
  // are ex8 and ex9).
  {
    id: "ex6-discriminatorLoss",
    files: ["lib/models/gan/discriminator_loss.ts"],
    tests: ["tests/gan/discriminator_loss_test.ts"],
    points: 2,
  },
  {
    id: "ex7-generatorLoss",
    files: ["lib/models/gan/generator_loss.ts"],
    tests: ["tests/gan/generator_loss_test.ts"],
    points: 2,
  },
  // The sheet's GAN code itself: the networks (model_gan.py) and the alternating scheme
  // (train_gan.py's update_discriminator and update_generator).
  {
    id: "ex10-generator",
    files: ["lib/models/gan/generator.ts"],
    tests: ["tests/gan/generator_test.ts"],
    points: 2,
  },
  {
    id: "ex10-discriminator",
    files: ["lib/models/gan/discriminator.ts"],
    tests: ["tests/gan/discriminator_test.ts"],
    points: 2,
  },
  {
    id: "ex11-alternatingUpdate",
    files: ["lib/models/gan/train.ts"],
    tests: ["tests/gan/alternating_update_test.ts"],
    points: 2,
  },
];
