/**
 * Talking to the Deno Jupyter kernel: detection and raw MIME-bundle display.
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
 * True inside the Deno Jupyter kernel (`deno jupyter`). Reading `Deno.jupyter` throws
 * anywhere else, so it is read inside try/catch.
 */
export function isKernel(): boolean {
  try {
    return typeof Deno.jupyter?.display === "function";
  } catch {
    return false;
  }
}

/** Options of {@link kernelDisplay}: a display id to create or (with `update`) replace. */
export interface KernelDisplayOptions {
  display_id?: string;
  update?: boolean;
}

/**
 * Sends a raw MIME bundle to the notebook (`Deno.jupyter.display(bundle, { raw: true })`),
 * then waits {@link SETTLE_MS}. Only valid when {@link isKernel} is true.
 */
export async function kernelDisplay(
  bundle: MimeBundle,
  options: KernelDisplayOptions = {},
): Promise<void> {
  await Deno.jupyter.display(bundle, { raw: true, ...options });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}
