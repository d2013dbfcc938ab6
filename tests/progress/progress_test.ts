import assert from "node:assert/strict";
import { assertThrowsMatching } from "../../lib/tools/testing/assert.ts";
import {
  formatBar,
  formatDuration,
  formatProgress,
  formatRate,
  formatValue,
  progress,
} from "../../lib/tools/progress/mod.ts";

/** A clock the test moves by hand (milliseconds). */
function fakeClock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

Deno.test("formatDuration: m:ss below an hour, h:mm:ss above, ? when unknown", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(59.4), "0:59");
  assert.equal(formatDuration(59.6), "1:00");
  assert.equal(formatDuration(61), "1:01");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(NaN), "?");
  assert.equal(formatDuration(Infinity), "?");
  assert.equal(formatDuration(-1), "?");
});

Deno.test("formatRate: precision by magnitude, s/it below one item per second", () => {
  assert.equal(formatRate(250.4), "250 it/s");
  assert.equal(formatRate(12.34), "12.3 it/s");
  assert.equal(formatRate(2.5), "2.50 it/s");
  assert.equal(formatRate(0.4), "2.50 s/it");
  assert.equal(formatRate(0), "? it/s");
  assert.equal(formatRate(NaN), "? it/s");
});

Deno.test("formatValue: integers plain, 4 significant digits, exponent at the extremes", () => {
  assert.equal(formatValue(3), "3");
  assert.equal(formatValue(0.123456), "0.1235");
  assert.equal(formatValue(12.5), "12.50");
  assert.equal(formatValue(123456.7), "1.23e+5");
  assert.equal(formatValue(0.00012345), "1.23e-4");
  assert.equal(formatValue(NaN), "NaN");
});

Deno.test("formatBar fills in proportion and clamps", () => {
  assert.equal(formatBar(0.5, 4), "[██░░]");
  assert.equal(formatBar(0, 3), "[░░░]");
  assert.equal(formatBar(1.7, 2), "[██]");
});

Deno.test("formatProgress: rate = count/elapsed, ETA = remaining/rate", () => {
  // 25 of 100 in 5 s: 5 it/s, 75 left -> 15 s.
  assert.equal(
    formatProgress({ label: "train", count: 25, total: 100, elapsedMs: 5000, info: { loss: 0.5 } }),
    "train   25/100   25%  5.00 it/s  ETA 0:15  loss=0.5000",
  );
  // Final line: total time instead of ETA; 300 in 120 s = 2.5 it/s.
  assert.equal(
    formatProgress({ count: 300, total: 300, elapsedMs: 120_000, final: true, barWidth: 4 }),
    "[████] 300/300  100%  2.50 it/s  total 2:00",
  );
  assert.equal(
    formatProgress({ count: 0, total: 10, elapsedMs: 0 }),
    " 0/10    0%  ? it/s  ETA ?",
  );
});

Deno.test("progress (plain): a line every 10 %, final line with total time, no ANSI", async () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const bar = progress({
    total: 50,
    label: "fit",
    mode: "plain",
    clock: clock.now,
    write: (s) => lines.push(s),
  });
  for (let i = 0; i < 50; i++) {
    clock.advance(100); // 10 it/s
    bar.tick(1, { loss: 1 / (i + 1) });
  }
  assert.equal(bar.count, 50);
  await bar.done();
  await bar.done(); // idempotent
  assert.equal(lines.length, 10); // at 5, 10, ..., 45, then done()'s final line
  assert.equal(lines[0], "fit   5/50   10%  10.0 it/s  ETA 0:05  loss=0.2000\n");
  assert.equal(lines[8], "fit  45/50   90%  10.0 it/s  ETA 0:01  loss=0.02222\n");
  assert.equal(lines[9], "fit  50/50  100%  10.0 it/s  total 0:05  loss=0.02000\n");
  assert.ok(lines.every((l) => !l.includes("\x1b")));
  bar.tick(); // ignored after done
  assert.equal(bar.count, 50);
});

Deno.test("progress (plain): `every` sets the line spacing, big ticks cross several marks once", async () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const bar = progress({
    total: 20,
    mode: "plain",
    every: 7,
    clock: clock.now,
    write: (s) => lines.push(s),
  });
  bar.tick(6);
  assert.equal(lines.length, 0);
  bar.tick(10); // 16: crosses 7 and 14, one line
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^16\/20/);
  bar.tick(4); // 20 = total: left to done()
  assert.equal(lines.length, 1);
  await bar.done();
  assert.equal(lines.length, 2);
  assert.ok(lines[1].startsWith("20/20  100%  "), lines[1]);
  assert.ok(lines[1].includes("  total 0:00"), lines[1]);
});

Deno.test("progress (tty): redraws with \\r at most once per interval", async () => {
  const clock = fakeClock();
  const out: string[] = [];
  const bar = progress({
    total: 1000,
    mode: "tty",
    intervalMs: 100,
    clock: clock.now,
    write: (s) => out.push(s),
  });
  assert.equal(out.length, 1); // initial 0/1000 line
  for (let i = 0; i < 1000; i++) {
    clock.advance(1); // 1000 ticks over 1 s -> about 10 redraws
    bar.tick();
  }
  assert.equal(out.length, 11);
  assert.ok(out.every((s) => s.startsWith("\r") && s.endsWith("\x1b[K")));
  await bar.done();
  assert.equal(out.length, 12);
  assert.equal(out[11], `\r[${"█".repeat(20)}] 1000/1000  100%  1000 it/s  total 0:01\x1b[K\n`);
});

Deno.test("progress (silent) writes nothing; bad options throw naming the parameter", async () => {
  const out: string[] = [];
  const bar = progress({ total: 3, mode: "silent", write: (s) => out.push(s) });
  bar.tick(3);
  await bar.done();
  assert.deepEqual(out, []);
  await assertThrowsMatching(() => progress({ total: 0 }), /total must be a positive/);
  await assertThrowsMatching(() => progress({ total: NaN }), /total must be a positive/);
  await assertThrowsMatching(
    () => progress({ total: 5, every: 0 }),
    /every must be an integer >= 1/,
  );
  await assertThrowsMatching(
    () => progress({ total: 5, mode: "fancy" as never }),
    /mode must be one of/,
  );
});
