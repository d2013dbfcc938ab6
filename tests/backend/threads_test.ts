import assert from "node:assert/strict";
import {
  cpuCores,
  kitThreads,
  parseThreads,
  reserveThreads,
  setKitThreads,
  withKitThreads,
} from "../../lib/engine/threads.ts";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";

Deno.test("parseThreads: unset means every core, else an integer in [1, 1024]", () => {
  assert.equal(parseThreads(undefined, 8), 8);
  assert.equal(parseThreads(" ", 8), 8);
  assert.equal(parseThreads("3", 8), 3);
  for (const bad of ["0", "-1", "1.5", "x", "2000"]) {
    assertThrowsMatching(
      () => parseThreads(bad, 8),
      /KIT_THREADS must be an integer in \[1, 1024\]/,
    );
  }
});

Deno.test("setKitThreads changes kitThreads and rejects bad counts", () => {
  const before = kitThreads();
  assert.ok(cpuCores() >= 1);
  setKitThreads(1);
  assert.equal(kitThreads(), 1);
  assertThrowsMatching(() => setKitThreads(0), /threads must be an integer in \[1, 1024\]; got 0/);
  setKitThreads(before);
});

Deno.test("reserveThreads lowers kitThreads until released (once), never below 1", () => {
  const before = kitThreads();
  setKitThreads(4);
  const a = reserveThreads(1);
  assert.equal(kitThreads(), 3);
  const b = reserveThreads(2);
  assert.equal(kitThreads(), 1);
  const c = reserveThreads(5);
  assert.equal(kitThreads(), 1, "at least one thread");
  c();
  b();
  b(); // a second release does nothing
  assert.equal(kitThreads(), 3);
  a();
  assert.equal(kitThreads(), 4);
  assertThrowsMatching(
    () => reserveThreads(0),
    /reserved threads must be an integer in \[1, 1024\]/,
  );
  setKitThreads(before);
});

Deno.test("withKitThreads sets the count for its function and restores it, also after a throw", () => {
  const before = kitThreads();
  const release = reserveThreads(1);
  try {
    assert.equal(withKitThreads(3, () => kitThreads()), 2, "3 threads, 1 reserved");
    assert.throws(() =>
      withKitThreads(5, () => {
        throw new Error("inside");
      }), /inside/);
    assert.equal(kitThreads(), Math.max(1, before - 1), "the count before, less the reserved one");
    assertThrowsMatching(
      () => withKitThreads(0, () => 1),
      /threads must be an integer in \[1, 1024\]/,
    );
  } finally {
    release();
  }
  assert.equal(kitThreads(), before);
});
