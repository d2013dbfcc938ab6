/**
 * When the GEMM pool's threads poll and when they sleep at once: polling backs off while the
 * machine's cores are busy.
 *
 * The pool's threads poll (spin) for a while before they sleep (`gemm_pool.ts`,
 * `KIT_SPIN_US`): on an idle machine the next job then finds its worker awake, which saves a
 * wake-up of tens to hundreds of microseconds. A polling thread keeps its core, though, and when
 * the kit's threads outnumber the free cores (another notebook or program running, `KIT_THREADS`
 * above the core count) the pollers take the cores from the threads they wait for: notebook 01
 * in quick mode took 5.9 s on 2 threads of the 2-core course machine and 20.6 s on 3, 34.4 s on
 * 4, 125 s on 16; two copies at once on 2 threads each 32.3 s. With this rule: 6.2, 6.4, 6.0
 * and 7.8 s, and 7.4 s for the two copies.
 *
 * A shared job is **late** when the calling thread, having finished its own part after `ownMs`,
 * then waits `waitMs` for the workers with
 *
 *   waitMs > max(1 ms, ownMs)
 *
 * (the parts are sized to finish together, so a worker that answers a whole part later did not
 * have a core). A moving average of late jobs, ℓ ← (1 − a) ℓ + a·[late] with a = 1/16, above 1/4
 * (five late jobs in a row from ℓ = 0) turns polling off for a back-off time, 1 s at first and
 * doubled at each further trip up to 16 s; then polling is tried again. A hundred jobs without a
 * trip reset the back-off to 1 s.
 *
 * The numbers come from the late/on-time sequences of a VAE epoch (567 shared jobs) and 30 DCGAN
 * iterations (735) with polling always on: on 2 threads of the 2-core machine, alone, 1–2 % and
 * 3.5–4.4 % of the jobs were late, in short clusters (a virtual machine's core taken away for a few
 * milliseconds), and the rule never trips on them (a = 1/4 with 1/2 had tripped in quiet VAE and DCGAN runs); on 3 or 4
 * threads 64–84 % were late, with two processes of 2 threads each 29–42 %, and the rule trips
 * within 5–20 jobs.
 * @module
 */

/** A job is late when the caller waits longer than this and longer than its own part (ms). */
export const LATE_MS = 1;
/** Weight of the newest job in the moving average of late jobs. */
export const LATE_WEIGHT = 1 / 16;
/** Polling goes off when the moving average of late jobs exceeds this. */
export const LATE_TRIP = 0.25;
/** First and longest back-off (ms). */
export const BACKOFF_MS = { first: 1000, max: 16_000 } as const;
/** Jobs without a trip after which the back-off is reset to its first value. */
export const CALM_JOBS = 100;

/** The state of the polling decision (plain values; {@link nextPolling} makes the next one). */
export interface PollingState {
  /** Whether the pool's threads poll before they sleep (false: they sleep at once). */
  polling: boolean;
  /** Moving average of late jobs, in [0, 1]. */
  late: number;
  /** While polling is off: when (`performance.now()` ms) it is tried again. */
  retryAt: number;
  /** How long polling stays off at the next trip (ms). */
  backoffMs: number;
  /** Jobs since polling was last turned on. */
  jobs: number;
  /** How many times polling was turned off. */
  trips: number;
}

/** The state of a new process: polling, nothing late. */
export const POLLING_START: Readonly<PollingState> = {
  polling: true,
  late: 0,
  retryAt: 0,
  backoffMs: BACKOFF_MS.first,
  jobs: 0,
  trips: 0,
};

/**
 * Whether a shared job was late: the calling thread waited `waitMs` for the workers after its own
 * part of `ownMs`, and waitMs > max({@link LATE_MS}, ownMs).
 * @example
 * ```ts
 * isLate(0.05, 0.4); // false: the workers finished with the caller
 * isLate(3.2, 0.4); // true: a worker had no core for 3 ms
 * ```
 */
export function isLate(waitMs: number, ownMs: number): boolean {
  return waitMs > Math.max(LATE_MS, ownMs);
}

/**
 * The state after a shared job that finished at `now` (ms) and was `late` or not (see the
 * module notes). While polling is off, the job only counts for the retry time.
 * @example
 * ```ts
 * let s = POLLING_START;
 * for (let i = 0; i < 5; i++) s = nextPolling(s, true, 10 + i);
 * s.polling; // false until 14 + 1000 ms
 * ```
 */
export function nextPolling(s: PollingState, late: boolean, now: number): PollingState {
  if (!s.polling) {
    return now >= s.retryAt ? { ...s, polling: true, late: 0, jobs: 0 } : s;
  }
  const avg = (1 - LATE_WEIGHT) * s.late + LATE_WEIGHT * (late ? 1 : 0);
  if (avg > LATE_TRIP) {
    return {
      polling: false,
      late: 0,
      retryAt: now + s.backoffMs,
      backoffMs: Math.min(2 * s.backoffMs, BACKOFF_MS.max),
      jobs: 0,
      trips: s.trips + 1,
    };
  }
  const jobs = s.jobs + 1;
  return {
    ...s,
    late: avg,
    jobs,
    backoffMs: jobs >= CALM_JOBS ? BACKOFF_MS.first : s.backoffMs,
  };
}
