/**
 * The classic Jupyter Notebook server (Debian's `jupyter-notebook`, 6.4) for the browser test:
 * started on a free loopback port with a random token, in its own process group with private
 * config and runtime folders, and stopped with its kernels (the port is checked closed).
 * @module
 */
import { join } from "node:path";

/** A running notebook server. */
export interface NotebookServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
  token: string;
  /** Server log so far (stdout and stderr). */
  log(): string;
  /** Stops the server and its kernels; resolves once the port is closed. Idempotent. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** True when something accepts connections on 127.0.0.1:`port`. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** The `custom.js` the server serves: the classic notebook's autosave is switched off. */
export const CUSTOM_JS = `// kit e2e: never write the notebook under test back to disk
define(["base/js/namespace", "base/js/events"], function (Jupyter, events) {
  events.on("notebook_loaded.Notebook", function () {
    Jupyter.notebook.set_autosave_interval(0);
  });
});
`;

/** Options of {@link startNotebookServer}. */
export interface ServerOptions {
  /** The folder the server shows (the repository root). */
  root: string;
  /** Extra environment for the server and the kernels it starts (e.g. `{ QUICK: "1" }`). */
  env?: Record<string, string>;
  /** Seconds to wait for the server to answer (default 60). */
  startTimeoutS?: number;
}

/**
 * Starts `jupyter notebook` (no browser, 127.0.0.1 only, a random 32-byte token, the port
 * fixed with no retries) with fresh `JUPYTER_CONFIG_DIR` and `JUPYTER_RUNTIME_DIR` folders, and
 * waits until `/api/status` answers. Kernelspecs come from the usual data folders.
 */
export async function startNotebookServer(opts: ServerOptions): Promise<NotebookServer> {
  const port = freePort();
  const token = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const tmp = await Deno.makeTempDir({ prefix: "kit-jupyter-" });
  const config = join(tmp, "config");
  await Deno.mkdir(join(config, "custom"), { recursive: true });
  await Deno.writeTextFile(join(config, "custom", "custom.js"), CUSTOM_JS);
  const child = new Deno.Command("setsid", {
    args: [
      "jupyter",
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--notebook-dir=${opts.root}`,
      "--NotebookApp.open_browser=False",
      // CI containers run as root; the server refuses that without this flag
      ...(Deno.uid() === 0 ? ["--allow-root"] : []),
    ],
    env: {
      ...opts.env,
      JUPYTER_CONFIG_DIR: config,
      JUPYTER_RUNTIME_DIR: join(tmp, "runtime"),
      JUPYTER_TOKEN: token,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) log += chunk;
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopped: Promise<void> | undefined;
  const base = `http://127.0.0.1:${port}`;
  const stop = () =>
    stopped ??= (async () => {
      const kill = (sig: Deno.Signal) => {
        try {
          Deno.kill(-child.pid, sig); // the server's session: kernels included
        } catch {
          // already gone
        }
      };
      if (!exited) {
        kill("SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), 15_000);
        await status;
        clearTimeout(timer);
      }
      kill("SIGKILL"); // any kernel left in the group
      await pumps.catch(() => {});
      for (let i = 0; i < 50 && await portOpen(port); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      if (await portOpen(port)) {
        throw new Error(`port ${port} is still open after stopping jupyter`);
      }
    })();
  const deadline = Date.now() + (opts.startTimeoutS ?? 60) * 1000;
  try {
    while (true) {
      if (exited) {
        throw new Error(
          `jupyter notebook exited at start:\n${log.trim().split("\n").slice(-10).join("\n")}`,
        );
      }
      try {
        const r = await fetch(`${base}/api/status?token=${token}`);
        await r.body?.cancel();
        if (r.ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        throw new Error(
          `jupyter notebook did not answer on ${base} within ${opts.startTimeoutS ?? 60} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { base, port, token, log: () => log, stop };
}

/** Shuts down every kernel session of the server (REST: `DELETE /api/sessions/<id>`). */
export async function shutdownSessions(server: NotebookServer): Promise<number> {
  const headers = { Authorization: `token ${server.token}` };
  const r = await fetch(`${server.base}/api/sessions`, { headers });
  const sessions: { id: string }[] = r.ok ? await r.json() : [];
  if (!r.ok) await r.body?.cancel();
  for (const s of sessions) {
    const d = await fetch(`${server.base}/api/sessions/${s.id}`, { method: "DELETE", headers });
    await d.body?.cancel();
  }
  return sessions.length;
}
