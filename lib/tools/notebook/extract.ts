/**
 * Writing a notebook's code cells to a hidden module next to it, so that relative imports
 * (`../lib/...`) resolve as they do in the kernel, and removing it afterwards.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { codeCells, readNotebook } from "./ipynb.ts";
import {
  buildScript,
  type BuildScriptOptions,
  type CellScript,
  translateLocations,
} from "./script.ts";

/** A notebook extracted to a temporary module. */
export interface ExtractedNotebook {
  /** The notebook path as given. */
  notebook: string;
  /** The notebook's base name without `.ipynb`. */
  name: string;
  /** Path of the temporary module (`<folder>/.<prefix>_<name>_<random>.ts`). */
  module: string;
  script: CellScript;
  /** Rewrites locations in the temporary module as `<notebook> cell N, line L`. */
  translate(text: string): string;
}

/** The notebook's base name without the `.ipynb` extension. */
export function notebookName(path: string): string {
  return basename(path).replace(/\.ipynb$/i, "");
}

/**
 * Extracts the code cells of `path` into `<folder>/.<prefix>_<name>_<random>.ts` (the
 * `.run_*.ts` and `.check_*.ts` patterns are gitignored), runs `fn`, and always removes the file.
 * `opts` are {@link buildScript}'s (capture mode).
 */
export async function withExtracted<T>(
  path: string,
  prefix: "run" | "check",
  fn: (x: ExtractedNotebook) => Promise<T>,
  opts: BuildScriptOptions = {},
): Promise<T> {
  const script = buildScript(codeCells(await readNotebook(path)), opts);
  const name = notebookName(path);
  const module = join(dirname(path), `.${prefix}_${name}_${crypto.randomUUID().slice(0, 8)}.ts`);
  await Deno.writeTextFile(module, script.code);
  try {
    return await fn({
      notebook: path,
      name,
      module,
      script,
      translate: (text) => translateLocations(text, module, script, path),
    });
  } finally {
    await Deno.remove(module).catch(() => {});
  }
}
