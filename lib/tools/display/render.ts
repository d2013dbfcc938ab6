/**
 * Turning the things `show()` accepts into image bytes, HTML or text.
 * @module
 */
import { Buffer } from "node:buffer";
import { stripAnsi } from "./ansi.ts";
import type { MimeBundle } from "./kernel.ts";
import { type ImageKind, imageMime, sniffImage } from "./sniff.ts";

/** Anything with a `toPNG()` method, e.g. a `Figure` from lib/tools/plot (duck-typed on purpose). */
export interface FigureLike {
  toPNG(): Uint8Array | Promise<Uint8Array>;
  /** Waits for pending (asynchronously read) data; called before `toPNG()` when present. */
  resolve?(): Promise<unknown>;
}

/**
 * What `show()` and live displays accept: a figure, PNG or GIF bytes, `{ html }` or `{ text }`.
 */
export type Showable = FigureLike | Uint8Array | { html: string } | { text: string };

/** A {@link Showable} after rendering. */
export type Rendered =
  | { kind: "image"; format: ImageKind; bytes: Uint8Array }
  | { kind: "html"; html: string }
  | { kind: "text"; text: string };

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  const ctor = "constructor" in x && typeof x.constructor === "function"
    ? x.constructor.name
    : "Object";
  const keys = Object.keys(x).slice(0, 5).join(", ");
  return `${ctor} { ${keys} }`;
}

function imageFrom(bytes: Uint8Array, what: string): Rendered {
  const format = sniffImage(bytes);
  if (format === undefined) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0"));
    throw new Error(
      `show: ${what} must be PNG or GIF bytes (magic 89504e47... or GIF8), got ${bytes.length} bytes starting ${
        head.join(" ")
      }`,
    );
  }
  return { kind: "image", format, bytes };
}

/**
 * Renders `x`: figures through `resolve()` (when they have it: tensor data is read
 * asynchronously) and `toPNG()`, byte arrays by sniffing PNG/GIF magic numbers.
 * Throws, naming the accepted kinds, for anything else.
 */
export async function render(x: Showable): Promise<Rendered> {
  const v: unknown = x; // notebook code may pass anything: checked here
  if (v instanceof Uint8Array) return imageFrom(v, "x (a Uint8Array)");
  if (typeof v === "object" && v !== null) {
    if ("toPNG" in v && typeof v.toPNG === "function") {
      if ("resolve" in v && typeof v.resolve === "function") await v.resolve();
      const bytes: unknown = await v.toPNG();
      if (!(bytes instanceof Uint8Array)) {
        throw new Error(`show: x.toPNG() must return a Uint8Array, got ${describe(bytes)}`);
      }
      return imageFrom(bytes, "x.toPNG()");
    }
    if ("html" in v && typeof v.html === "string") return { kind: "html", html: v.html };
    if ("text" in v && typeof v.text === "string") return { kind: "text", text: v.text };
  }
  throw new Error(
    `show: x must be a figure with toPNG(), PNG/GIF bytes (Uint8Array), { html: string } or { text: string }, got ${
      describe(x)
    }`,
  );
}

/** The Jupyter MIME bundle of a rendered value (images base64, text without ANSI codes). */
export function toBundle(r: Rendered): MimeBundle {
  switch (r.kind) {
    case "image":
      return { [imageMime(r.format)]: Buffer.from(r.bytes).toString("base64") };
    case "html":
      return { "text/html": r.html };
    case "text":
      return { "text/plain": stripAnsi(r.text) };
  }
}

/** The file extension a rendered value is saved with outside the kernel. */
export function extensionOf(r: Rendered): string {
  return r.kind === "image" ? r.format : r.kind === "html" ? "html" : "txt";
}
