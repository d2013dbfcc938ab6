/**
 * The part of highlight.js's API that `render_html.ts` uses. highlight.js's own types start
 * with `/// <reference lib="dom" />`, which would put the DOM's types into every module of the
 * kit that the type check reaches (and clash with Deno's stream types), so they are not used.
 */
/** A highlighting result: `value` is the HTML with `hljs-*` spans. */
export interface HighlightResult {
  value: string;
}
/** A language definition module's default export. */
export type LanguageFn = (hljs: unknown) => unknown;
/** highlight.js's core object. */
declare const hljs: {
  registerLanguage(name: string, language: LanguageFn): void;
  highlight(code: string, options: { language: string; ignoreIllegals?: boolean }): HighlightResult;
};
export default hljs;
