/**
 * What the GEMM pool's adaptive polling (`lib/engine/kernels/pool_polling.ts`) does when the kit's
 * threads outnumber the free cores, wasm backend: a VAE epoch (the bench's `vae` workload) and
 * DCGAN iterations (`gan`, 20 per run), medians of 3 runs after a warm-up epoch, with adaptive
 * polling (the default) and with polling always on (`setGemmPoolAdaptivePolling(false)`), in
 * three settings: alone on as many threads as cores; alone on twice as many; two processes at once
 * on as many threads as cores each. Prints one line per run and how often polling backed off.
 *
 * Usage: deno run -A tests/bench/busy_cores.ts
 * @module
 */
import { initBackend } from "../../lib/engine/backend/mod.ts";
import { gemmPoolStatus, setGemmPoolAdaptivePolling } from "../../lib/engine/kernels/gemm_pool.ts";
import { ganSteps, vaeEpoch } from "../../lib/tools/bench/cases.ts";
import { median } from "../../lib/tools/bench/reference.ts";
import { setKitThreads } from "../../lib/engine/threads.ts";

if (Deno.args[0] === "--child") {
  const [threads, adaptive] = [Number(Deno.args[1]), Deno.args[2] === "adaptive"];
  await initBackend({ log: false });
  setGemmPoolAdaptivePolling(adaptive);
  setKitThreads(threads);
  await vaeEpoch(0);
  const vae: number[] = [], gan: number[] = [];
  for (let r = 1; r <= 3; r++) {
    vae.push((await vaeEpoch(r)).seconds);
    gan.push((await ganSteps(20, r)).msPerStep);
  }
  console.log(
    `VAE epoch ${median(vae).toFixed(3)} s, DCGAN iteration ${median(gan).toFixed(1)} ms, ` +
      `polling backed off ${gemmPoolStatus().pollingTrips} times`,
  );
} else {
  const cores = navigator.hardwareConcurrency;
  const child = (threads: number, mode: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--child", String(threads), mode],
      stdout: "piped",
      stderr: "inherit",
    }).output().then((o) => new TextDecoder().decode(o.stdout).trim());
  for (const mode of ["adaptive", "always"]) {
    console.log(`alone, ${cores} threads, polling ${mode}: ${await child(cores, mode)}`);
    console.log(`alone, ${2 * cores} threads, polling ${mode}: ${await child(2 * cores, mode)}`);
    const two = await Promise.all([child(cores, mode), child(cores, mode)]);
    two.forEach((line, i) =>
      console.log(`two at once (${i + 1}), ${cores} threads each, polling ${mode}: ${line}`)
    );
  }
}
