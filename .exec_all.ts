// temporary driver (not committed): full-mode execution of every notebook into out/book/executed/
import { join } from "node:path";
import { writeFileAtomic } from "./lib/tools/display/files.ts";
import { executeForBook, listNotebooks } from "./lib/tools/notebook/book.ts";
import { notebookName } from "./lib/tools/notebook/mod.ts";
const quick = Deno.args.includes("--quick");
const only = Deno.args.filter((a) => !a.startsWith("--"));
const dir = Deno.env.get("BOOK_OUT") ?? "out/book/executed";
const t0 = performance.now();
const all = await listNotebooks("notebooks");
const order = only.length ? only.map((o) => all.find((p) => notebookName(p).startsWith(o))!) : all;
for (const path of order) {
  const name = notebookName(path);
  const res = await executeForBook(path, { quick, onCell: (e) => { if (e.phase === "done") console.log(`${new Date().toISOString()} ${name} cell ${e.cell}/${e.total} ${e.seconds}s`); } });
  if (res.executed) await writeFileAtomic(join(dir, `${name}.ipynb`), JSON.stringify(res.executed, null, 1) + "\n");
  await writeFileAtomic(join(dir, `${name}.json`), JSON.stringify(res.record, null, 2) + "\n");
  console.log(`${name}: ${res.record.seconds.toFixed(1)} s, backend ${res.record.backend}, problems ${res.record.problems.length}`);
  for (const p of res.record.problems) console.log("  " + p);
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
