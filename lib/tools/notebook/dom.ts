/**
 * The DOM names used by the callbacks that the notebook checks run inside the browser
 * (`page.evaluate`, `$$eval`, `waitForFunction`). Deno's type library has no DOM, and the DOM
 * types that playwright-core gives those callbacks' parameters do not resolve here, so these
 * interfaces type what the callbacks read. Only types: the callbacks are sent to the browser as
 * source text and cannot call functions of this module.
 *
 * Each module with such callbacks declares the browser globals it reads:
 * `declare const document: DomDocument;` and `declare const window: BrowserWindow;`.
 * @module
 */

/** A list of elements (`NodeList`): iterable, with a length. */
export interface DomNodeList extends Iterable<DomElement> {
  readonly length: number;
  forEach(callback: (node: DomElement) => void): void;
}

/** The parts of a DOM `Element` the checks read. */
export interface DomElement {
  readonly textContent: string | null;
  readonly parentElement: DomElement | null;
  readonly classList: { contains(name: string): boolean };
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): DomNodeList;
  getAttribute(name: string): string | null;
  cloneNode(deep: boolean): DomElement;
  remove(): void;
}

/** An `<img>`: its source and how the browser decoded and laid it out. */
export interface DomImage extends DomElement {
  readonly currentSrc: string;
  readonly src: string;
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  getBoundingClientRect(): { width: number; height: number };
}

/** An `<a>`: its resolved URL and fragment. */
export interface DomAnchor extends DomElement {
  readonly href: string;
  readonly hash: string;
}

/** A `<canvas>` read through its 2-D context. */
export interface DomCanvas extends DomElement {
  readonly width: number;
  readonly height: number;
  getContext(kind: "2d"): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  } | null;
}

/** The parts of `document` the checks use. */
export interface DomDocument {
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): DomNodeList;
  getElementById(id: string): DomElement | null;
}

/** One output of a classic-notebook cell (`cell.output_area.outputs`). */
export interface JupyterOutput {
  data?: Record<string, unknown>;
}

/** The classic Jupyter Notebook front-end's `Jupyter` global, as far as the checks use it. */
export interface JupyterApi {
  notebook?: {
    _fully_loaded?: boolean;
    kernel?: { is_connected?(): boolean } | null;
    autosave_interval: number;
    set_autosave_interval(ms: number): void;
    get_cells(): { output_area?: { outputs?: JupyterOutput[] } }[];
  };
}

/** MathJax 2's global, as far as the checks use it (its typesetting queue). */
export interface MathJaxApi {
  Hub?: { Queue?(callback: () => void): void };
}

/** The browser's `window`: the page globals the checks read (absent where not loaded). */
export interface BrowserWindow {
  Jupyter?: JupyterApi;
  MathJax?: MathJaxApi;
}
