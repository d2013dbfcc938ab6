/** highlight.js's TypeScript language definition (see `hljs.d.ts` for why not its own types). */
import type { LanguageFn } from "./hljs.d.ts";
declare const typescript: LanguageFn;
export default typescript;
