/**
 * The course's library exercises (students fill labelled regions in these `lib/` files; the
 * listed tests grade them). See `course.ts`.
 * @module
 */
import type { LibraryExercise } from "./course.ts";

/** The library exercises handed out with the notebooks. */
export const LIBRARY_EXERCISES: LibraryExercise[] = [];
