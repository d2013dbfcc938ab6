/**
 * Talking to the Deno Jupyter kernel: detection and raw MIME-bundle display, and the kit's
 * capture mode, which stands in for the kernel when a notebook runs headless for the course
 * book (`lib/tools/notebook/capture.ts` reads what it writes).
 * @module
 */

/** A Jupyter MIME bundle: MIME type to base64 (images) or text. */
export type MimeBundle = Record<string, string>;

/**
 * Milliseconds to wait after each display message inside the kernel. The kernel's
 * `display()` resolves before the message has left on the IOPub channel; when a cell ends right
 * after it, the message can arrive after the cell's "idle" status and nbclient drops it (seen
 * with `update_display_data`: the saved notebook kept a stale value, and even the next cell's
 * stream output went missing). A short pause lets the message go out first.
 */
export const SETTLE_MS = 15;

/**
 * The environment variable that turns on capture mode: with `KIT_NOTEBOOK_CAPTURE=1`,
 * {@link isKernel} is true and {@link kernelDisplay} writes each display as one record line on
 * stdout instead of calling `Deno.jupyter`.
 */
export const CAPTURE_ENV = "KIT_NOTEBOOK_CAPTURE";

/**
 * The character that starts every capture record (ASCII "record separator", U+001E); records
 * are `\u001ekit-<kind> <payload>\n` with kind `cell` (payload: the code cell's number),
 * `display` or `result` (payload: a {@link CaptureRecord} as JSON).
 */
export const CAPTURE_MARK = "\u001e";

/** A `display` or `result` record of capture mode. */
export interface CaptureRecord {
  /** The MIME bundle. */
  data: MimeBundle;
  /** The display id of a live display. */
  display_id?: string;
  /** True: replaces the data of the earlier output(s) with the same display id. */
  update?: boolean;
}

function realKernel(): boolean {
  try {
    return typeof Deno.jupyter?.display === "function";
  } catch {
    return false;
  }
}

/** True when capture mode is on (`KIT_NOTEBOOK_CAPTURE=1`) and no real kernel is present. */
export function isCapture(): boolean {
  if (realKernel()) return false;
  try {
    return Deno.env.get(CAPTURE_ENV) === "1";
  } catch {
    return false;
  }
}

/**
 * True inside the Deno Jupyter kernel (`deno jupyter`), or in capture mode (see
 * {@link CAPTURE_ENV}). Reading `Deno.jupyter` throws anywhere else, so it is read inside
 * try/catch.
 */
export function isKernel(): boolean {
  return realKernel() || isCapture();
}

/** Options of {@link kernelDisplay}: a display id to create or (with `update`) replace. */
export interface KernelDisplayOptions {
  display_id?: string;
  update?: boolean;
}

const encoder = new TextEncoder();

/** Writes one capture record (`\u001ekit-<kind> <payload>\n`) to stdout, synchronously. */
export function writeCaptureRecord(kind: "cell" | "display" | "result", payload: string): void {
  const bytes = encoder.encode(`${CAPTURE_MARK}kit-${kind} ${payload}\n`);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/**
 * Marks the start of code cell `cell` in capture mode: a `cell` record on stdout and on stderr,
 * so that each stream's text can be assigned to the cell that wrote it.
 */
export function captureCell(cell: number): void {
  const bytes = encoder.encode(`${CAPTURE_MARK}kit-cell ${cell}\n`);
  for (const sink of [Deno.stdout, Deno.stderr]) {
    let off = 0;
    while (off < bytes.length) off += sink.writeSync(bytes.subarray(off));
  }
}

/**
 * Sends a raw MIME bundle to the notebook (`Deno.jupyter.display(bundle, { raw: true })`),
 * then waits {@link SETTLE_MS}; in capture mode, writes it as a `display` record on stdout.
 * Only valid when {@link isKernel} is true.
 */
export async function kernelDisplay(
  bundle: MimeBundle,
  options: KernelDisplayOptions = {},
): Promise<void> {
  if (isCapture()) {
    const rec: CaptureRecord = { data: bundle, ...options };
    writeCaptureRecord("display", JSON.stringify(rec));
    return;
  }
  await Deno.jupyter.display(bundle, { raw: true, ...options });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

function startsWith(bytes: Uint8Array, sig: number[]): boolean {
  return bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
}

/**
 * The MIME bundle the Deno kernel shows for a cell's value (its `execute_result`), following
 * the kernel's own `format()` (Deno's `cli/js/40_jupyter.js`): an object's
 * `[Symbol.for("Jupyter.display")]()` bundle; a canvas's `toDataURL()`; PNG or JPEG bytes;
 * an element's `outerHTML` (SVG or HTML); otherwise `Deno.inspect` (depth 4, no colours) as
 * `text/plain`, which is what Deno 2.9.6's kernel saves. `undefined` for `undefined` (the kernel shows nothing).
 */
export async function formatResult(value: unknown): Promise<MimeBundle | undefined> {
  if (value === undefined) return undefined;
  const plain = () => ({
    "text/plain": Deno.inspect(value, {
      colors: false,
      showProxy: true,
      depth: 4,
    }),
  });
  if (value === null || typeof value !== "object") return plain();
  const obj = value as Record<string | symbol, unknown>;
  const display = obj[Symbol.for("Jupyter.display")];
  if (typeof display === "function") return await display.call(obj) as MimeBundle;
  if ("toDataURL" in obj && typeof obj.toDataURL === "function") {
    const url = String(obj.toDataURL());
    const [head, data] = url.split(",");
    return { [head.split(":")[1].split(";")[0]]: data };
  }
  if (value instanceof Uint8Array) {
    const b64 = () => btoa(Array.from(value, (b) => String.fromCharCode(b)).join(""));
    const n = value.length;
    if (startsWith(value, [0xff, 0xd8]) && value[n - 2] === 0xff && value[n - 1] === 0xd9) {
      return { "image/jpeg": b64() };
    }
    if (startsWith(value, [137, 80, 78, 71, 13, 10, 26, 10])) return { "image/png": b64() };
  }
  if (typeof obj.outerHTML === "string") {
    return obj.outerHTML.startsWith("<svg")
      ? { "image/svg+xml": obj.outerHTML }
      : { "text/html": obj.outerHTML };
  }
  return plain();
}

/**
 * Shows a cell's value as the kernel does, in capture mode: what {@link formatResult} gives, as
 * a `result` record. Headless runs in capture mode call it with each cell's completion value
 * (see `lib/tools/notebook/completion.ts` and `script.ts`).
 */
export async function captureResult(value: unknown): Promise<void> {
  const data = await formatResult(value);
  if (data !== undefined) writeCaptureRecord("result", JSON.stringify({ data }));
}
