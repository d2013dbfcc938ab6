// Browser and notebook-server checks; skipped (ignored) where Chromium or `jupyter notebook`
// is not installed. `deno task e2e` is the full run; these show that its checks can fail.
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkPlayer, findChromium, launchBrowser } from "../../lib/tools/notebook/browser.ts";
import { serveDir } from "../../lib/tools/notebook/e2e.ts";
import { checkSite } from "../../lib/tools/notebook/e2e_site.ts";
import { portOpen, startNotebookServer } from "../../lib/tools/notebook/jupyter_server.ts";
import { untrainedPlayerHtml } from "./player_fixture.ts";

const chromium = await findChromium();
const jupyterNotebook = await new Deno.Command("jupyter", {
  args: ["notebook", "--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((r) => r.success, () => false);

async function playerPage(): Promise<string> {
  return `<!DOCTYPE html><html><body>${await untrainedPlayerHtml()}</body></html>`;
}

Deno.test({
  name: "checkPlayer: the real player passes; one whose tail slider does nothing fails",
  ignore: !chromium,
  async fn() {
    const dir = await Deno.makeTempDir();
    const good = await playerPage();
    await Deno.writeTextFile(join(dir, "good.html"), good);
    // the same player with the tail length ignored when drawing
    await Deno.writeTextFile(join(dir, "bad.html"), good.replace('+get("tail").value', "10"));
    const site = serveDir(dir);
    const kit = await launchBrowser({ executablePath: chromium });
    try {
      for (const [file, expectOk] of [["good.html", true], ["bad.html", false]] as const) {
        const page = await kit.newPage(file);
        await page.goto(`${site.base}/${file}`);
        const r = await checkPlayer(page.locator("div:has(> canvas)").first());
        await page.close();
        if (expectOk) assert.deepEqual(r.problems, [], file);
        else {
          assert.deepEqual(r.problems, [
            "player: tail length to its maximum did not change the canvas",
            "player: readout shows 10 for tail=12",
          ]);
        }
        assert.equal(r.steps.length, 8);
      }
      assert.deepEqual(kit.errors, []);
    } finally {
      await kit.close();
      await site.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "checkSite: a console error, an off-site request, a broken image and a dead link fail",
  ignore: !chromium,
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      join(dir, "index.html"),
      `<html><body><a href="a.html">a</a></body></html>`,
    );
    await Deno.writeTextFile(
      join(dir, "a.html"),
      `<html><body><a href="missing.html">x</a><a href="#nowhere">y</a><img src="none.png">
<script src="https://cdn.example.org/x.js"></script><script>console.error("boom")</script></body></html>`,
    );
    const r = await checkSite(dir, { chromium, pages: ["a.html"] });
    await Deno.remove(dir, { recursive: true });
    const text = r.failures.join("\n");
    assert.equal(r.failures.filter((f) => f.startsWith("site index.html")).length, 0, text);
    assert.match(text, /site a\.html: image 1 \(png\) did not decode/);
    assert.match(text, /site a\.html: link missing\.html: status 404/);
    assert.match(text, /site a\.html: anchor #nowhere has no target/);
    assert.match(text, /console error: boom/);
    assert.match(text, /request off the site: https:\/\/cdn\.example\.org\/x\.js/);
  },
});

Deno.test({
  name: "startNotebookServer: answers with its token only, and stop() closes the port",
  ignore: !jupyterNotebook,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startNotebookServer({ root: dir });
    try {
      const open = await fetch(`${server.base}/api/contents`, {
        headers: { Authorization: `token ${server.token}` },
      });
      assert.equal(open.status, 200);
      await open.body?.cancel();
      const denied = await fetch(`${server.base}/api/contents`);
      assert.equal(denied.status, 403);
      await denied.body?.cancel();
    } finally {
      await server.stop();
    }
    assert.equal(await portOpen(server.port), false);
    await Deno.remove(dir, { recursive: true });
  },
});
