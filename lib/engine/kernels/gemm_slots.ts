/**
 * The layout of one worker's slot in the GEMM pool's control block (an Int32Array on a
 * SharedArrayBuffer), shared by `gemm_pool.ts` and `gemm_worker.ts`.
 * @module
 */

/** Int32 offsets within a slot, and the slot size. */
export const SLOT = {
  /** Job sequence number written by the pool (negative: stop). */
  seq: 0,
  /** Sequence number of the last finished job, written by the worker. */
  done: 1,
  /** 0 when the last job succeeded, 1 when it failed. */
  status: 2,
  /** 0 while starting, 1 ready, −1 could not start. */
  ready: 3,
  /** 1: fail the next job and say so, 2: die on it without a word (tests of a dying worker). */
  fail: 4,
  /**
   * The ten arguments: a, b, c, M, K, N, bias, act, r (byte offsets in shared memory) and the
   * scratch of `gemm_skip` (0: the plain `gemm`).
   */
  args: 5,
  /** Microseconds a worker polls for its next job before it sleeps (written by the pool). */
  spin: 15,
  /** Microseconds the worker's last block took (written by the worker before `done`). */
  micros: 16,
  /** 0: the product in `args` (on the pool's memory), 1: the call list (on tfjs's memory). */
  kind: 17,
  size: 18,
} as const;
