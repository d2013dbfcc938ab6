/**
 * A self-contained interactive HTML player for particle runs: sliders for the diffusion step t,
 * the tail length and the number of particles, and a DDPM/DDIM switch. Plain HTML, a canvas and
 * a few lines of JavaScript with the data embedded; it runs wherever the notebook output is
 * trusted (JupyterLab marks outputs of a notebook you ran yourself as trusted).
 * @module
 */
import type { ParticleRun } from "./particles.ts";

function rounded(a: ArrayLike<number>, digits = 3): number[] {
  const f = 10 ** digits;
  return Array.from(a, (v) => Math.round(v * f) / f);
}

function pack(run: ParticleRun) {
  return {
    label: run.label,
    n: run.n,
    T: run.T,
    frames: run.frames.map((f) => rounded(f)),
    field: run.field.map((f) => rounded(f, 2)),
    predicted: run.predicted.map((f) => rounded(f)),
    added: run.added.map((f) => rounded(f)),
    gx: rounded(run.grid.X, 2),
    gy: rounded(run.grid.Y, 2),
  };
}

let counter = 0;

/**
 * The player as one HTML string: `runs` (e.g. DDPM and DDIM from the same model) switchable by
 * buttons, `data` (flat [x, y, …]) drawn faintly underneath. Coordinates shown: [−2.5, 2.5]².
 */
export function particlePlayerHtml(runs: ParticleRun[], data: ArrayLike<number> = []): string {
  if (runs.length === 0) throw new Error("runs must hold at least one particle run");
  const id = `pp${Date.now().toString(36)}${counter++}`;
  const payload = JSON.stringify({ runs: runs.map(pack), data: rounded(data) });
  const T = runs[0].T;
  const n = Math.max(...runs.map((r) => r.n));
  const buttons = runs.map((r, i) =>
    `<label><input type="radio" name="${id}-run" value="${i}"${
      i === 0 ? " checked" : ""
    }> ${r.label}</label>`
  ).join(" ");
  return `<div id="${id}" style="font-family: sans-serif; font-size: 13px; max-width: 520px">
<canvas width="520" height="520" style="width: 100%; border: 1px solid #ddd"></canvas>
<div style="display: grid; grid-template-columns: 9em 1fr 3em; gap: 2px 8px; align-items: center">
<span>diffusion step t</span><input data-k="t" type="range" min="0" max="${T}" value="${T}"><output></output>
<span>tail length</span><input data-k="tail" type="range" min="0" max="${T}" value="10"><output></output>
<span>particles</span><input data-k="shown" type="range" min="1" max="${n}" value="${
    Math.min(50, n)
  }"><output></output>
</div>
<div>${buttons} &nbsp; <span style="color:#0066ff">blue: −ε̂ (learned direction)</span>,
<span style="color:red">red: added noise</span></div>
<script>
(() => {
  const root = document.getElementById(${JSON.stringify(id)});
  const D = ${payload};
  const cv = root.querySelector("canvas"), ctx = cv.getContext("2d");
  const W = cv.width, S = W / 5, px = (x) => (x + 2.5) * S, py = (y) => (2.5 - y) * S;
  const get = (k) => root.querySelector('input[data-k="' + k + '"]');
  function draw() {
    const run = D.runs[+root.querySelector('input[type=radio]:checked').value];
    const t = +get("t").value, tail = +get("tail").value, shown = Math.min(+get("shown").value, run.n);
    root.querySelectorAll("output").forEach((o, i) => o.textContent = [t, tail, shown][i]);
    const k = run.T - t;
    ctx.clearRect(0, 0, W, W);
    ctx.fillStyle = "rgba(0,0,0,0.12)";
    for (let i = 0; i < D.data.length; i += 2) ctx.fillRect(px(D.data[i]) - 1.5, py(D.data[i + 1]) - 1.5, 3, 3);
    const f = run.field[Math.min(Math.max(k - 1, 0), run.T - 1)];
    ctx.strokeStyle = "rgba(128,128,128,0.5)"; ctx.lineWidth = 1; ctx.beginPath();
    for (let g = 0; g < run.gx.length; g++) {
      const x0 = px(run.gx[g]), y0 = py(run.gy[g]), u = f[2 * g] / 6 * S, v = -f[2 * g + 1] / 6 * S;
      ctx.moveTo(x0, y0); ctx.lineTo(x0 + u, y0 + v);
    }
    ctx.stroke();
    ctx.strokeStyle = "rgba(31,119,180,0.5)"; ctx.beginPath();
    for (let i = 0; i < shown; i++) {
      for (let j = Math.max(0, k - tail); j <= k; j++) {
        const X = px(run.frames[j][2 * i]), Y = py(run.frames[j][2 * i + 1]);
        if (j === Math.max(0, k - tail)) ctx.moveTo(X, Y); else ctx.lineTo(X, Y);
      }
    }
    ctx.stroke();
    const arrows = (dirs, color) => {
      ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
      for (let i = 0; i < shown; i++) {
        const X = run.frames[k][2 * i], Y = run.frames[k][2 * i + 1];
        ctx.moveTo(px(X), py(Y)); ctx.lineTo(px(X + dirs[2 * i]), py(Y + dirs[2 * i + 1]));
      }
      ctx.stroke();
    };
    if (k < run.T) { arrows(run.predicted[k], "#0066ff"); arrows(run.added[k], "red"); }
    ctx.fillStyle = "black";
    for (let i = 0; i < shown; i++) {
      ctx.beginPath(); ctx.arc(px(run.frames[k][2 * i]), py(run.frames[k][2 * i + 1]), 2.5, 0, 2 * Math.PI); ctx.fill();
    }
  }
  root.querySelectorAll("input").forEach((el) => el.addEventListener("input", draw));
  draw();
})();
</script></div>`;
}
