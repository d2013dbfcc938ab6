/**
 * The graded run's main module (started by `sandbox.ts` with `deno run` and a small permission
 * set, never by hand). Before any notebook code runs it
 *
 * 1. keeps the functions it needs (stdout's `writeSync`, `Deno.exit`, `JSON.stringify`, the
 *    encoder) and calls Hardened JavaScript's `lockdown()` (npm `ses`): every JavaScript
 *    intrinsic (`Object`, `Array`, `Math`, `JSON`, `Promise`, their prototypes, …) is frozen, so a
 *    cell cannot patch what the checks or this runner use;
 * 2. reads its orders from stdin: a per-run secret and the list of cell modules (stdin is then
 *    at its end; the secret lives only in this module's closure);
 * 3. loads the kit's backend and freezes tfjs's `Tensor` class and the engine's methods.
 *
 * Then it imports the cell modules one after the other. After each it writes one verdict line,
 * `<secret> {"e":"done","cell":N,"ok":…}`, to stdout. Only this runner knows the secret, so
 * a cell cannot forge a verdict; a cell passes only when its module finished without throwing.
 * Errors thrown later by timers or unhandled rejections are reported as `background` and do not
 * stop the run.
 * @module
 */
import { kitLockdown } from "./lockdown.ts";
import process from "node:process";

declare const harden: <T>(x: T) => T;

const write = Deno.stdout.writeSync.bind(Deno.stdout);
const exit = Deno.exit;
const stringify = JSON.stringify;
const parseJson = JSON.parse;
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const decoder = new TextDecoder();
const decode = decoder.decode.bind(decoder);
const now = performance.now.bind(performance);
const timeout = setTimeout;
const PromiseClass = Promise;
/** One turn of the event loop (timers due now run), as between two cells in the kernel. */
const turn = () => new PromiseClass<void>((r) => timeout(r, 0));

kitLockdown();

interface Orders {
  secret: string;
  /** The kit's backend module (`lib/engine/backend/mod.ts` of the copy). */
  backend: string;
  /** Cell modules (TypeScript), each starting with `URL.revokeObjectURL(import.meta.url)`. */
  cells: Array<{ n: number; code: string }>;
}

const chunks: Uint8Array[] = [];
for await (const chunk of Deno.stdin.readable) chunks.push(chunk);
let total = 0;
for (const c of chunks) total += c.length;
const all = new Uint8Array(total);
let at = 0;
for (const c of chunks) {
  all.set(c, at);
  at += c.length;
}
const orders = parseJson(decode(all)) as Orders;
harden(URL);
harden(Blob);
const createUrl = URL.createObjectURL;
const BlobClass = Blob;
const secret = orders.secret;

function emit(event: Record<string, unknown>): void {
  const bytes = encode(`\n${secret} ${stringify(event)}\n`);
  let off = 0;
  while (off < bytes.length) off += write(bytes.subarray(off));
}

function describe(err: unknown): string {
  try {
    if (err instanceof Error) return `${String(err.name)}: ${String(err.message)}`.slice(0, 600);
    return `thrown: ${String(err)}`.slice(0, 600);
  } catch {
    return "an error that cannot be printed";
  }
}

let current = 0;
const reported = new WeakSet<object>();
const background = (err: unknown) => {
  if (typeof err === "object" && err !== null) {
    if (reported.has(err)) return;
    reported.add(err);
  }
  emit({ e: "background", cell: current, error: describe(err) });
};
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  background((e as ErrorEvent).error);
});
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  background(e.reason);
});
// npm code runs with Node's timers, whose uncaught errors go to these instead
process.on("uncaughtException", background);
process.on("unhandledRejection", background);
// and the cells' timer callbacks report their errors themselves (Deno's Node-compatible timers
// end the process on an uncaught error even when the error event is prevented)
const guard = (fn: unknown) =>
  typeof fn === "function"
    ? function (this: unknown, ...args: unknown[]) {
      try {
        return Reflect.apply(fn, this, args);
      } catch (err) {
        background(err);
      }
    }
    : fn;
for (const name of ["setTimeout", "setInterval"] as const) {
  const original = globalThis[name];
  const wrapped = (fn: unknown, ...rest: unknown[]): unknown =>
    Reflect.apply(original, undefined, [guard(fn), ...rest]);
  Object.defineProperty(globalThis, name, { value: wrapped, writable: true, configurable: true });
}

try {
  const { tf, initBackend } = await import(orders.backend);
  await initBackend();
  harden(tf.Tensor);
  // the engine's methods (not its state: tfjs keeps counters on the class and the instance)
  const engine = tf.engine();
  const proto = Object.getPrototypeOf(engine);
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name)!;
    if (name === "constructor" || typeof d.value !== "function") continue;
    Object.defineProperty(proto, name, { value: d.value, writable: false, configurable: false });
    if (Object.getOwnPropertyDescriptor(engine, name)) continue;
    Object.defineProperty(engine, name, { value: d.value, writable: false, configurable: false });
  }
} catch (err) {
  emit({ e: "setup", error: describe(err) });
  exit(3);
}

emit({ e: "ready" });
for (const cell of orders.cells) {
  current = cell.n;
  emit({ e: "start", cell: cell.n });
  const started = now();
  let ok = true;
  let error: string | undefined;
  try {
    const url = createUrl(new BlobClass([cell.code], { type: "application/typescript" }));
    await import(url);
  } catch (err) {
    ok = false;
    error = describe(err);
    try {
      const stack = String((err as Error).stack ?? "").split("\n").slice(1, 8).join("\n");
      if (stack) write(encode(`[grader] cell ${cell.n} failed: ${error}\n${stack}\n`));
    } catch { /* no stack */ }
  }
  emit({ e: "done", cell: cell.n, ok, error, seconds: (now() - started) / 1000 });
  await turn();
}
current = 0;
await turn();
emit({ e: "end" });
exit(0);
