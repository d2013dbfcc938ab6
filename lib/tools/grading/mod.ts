/**
 * Student editions and autograding, following nbgrader's conventions: solution and hidden-test
 * markers, nbgrader cell metadata, `release` (exercise versions) and `grade` (points per task).
 * @module
 */
export * from "./markers.ts";
export * from "./nbgrader.ts";
export * from "./release.ts";
export * from "./grade.ts";
export * from "./library.ts";
export * from "./report.ts";
export * from "./course.ts";
export * from "./workflow.ts";
export * from "./exercises.ts";
export * from "./checks.ts";
export * from "./batch.ts";
export * from "./sandbox.ts";
export * from "./cells.ts";
export * from "./manual.ts";
