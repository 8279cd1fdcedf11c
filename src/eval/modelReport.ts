/**
 * The model part of the demo report (a `ReportSection` for report.ts): the held-out metrics table with the
 * baselines, the training curve (training-batch PSNR and the periodic held-out PSNR against both baselines), and
 * per held-out sample the inputs, the targets beside their renderings and error maps, and the predicted camera
 * path over the true one (both relative to the first input, seen from above).
 */
import { encodePng } from "../data/images.ts";
import type { Frame } from "../data/scene.ts";
import { mat4Mul, rigidInverse } from "../geometry/mat4.ts";
import type { EvalReport, Prediction } from "./evaluate.ts";
import { psnrHost } from "./metrics.ts";
import { REPORT_FILES_DIR, cameraPathSvg, escapeHtml, turbo, type ReportSection } from "./report.ts";

/** A line of `metrics.jsonl`: a training log line or a held-out evaluation. */
export type MetricsLine = { step: number; loss?: number; eval?: EvalReport };

export async function modelSection(opts: {
  title: string;
  note: string;
  report: EvalReport;
  metrics: readonly MetricsLine[];
  predictions: readonly Prediction[];
  inputViews: number;
}): Promise<ReportSection> {
  const images = new Map<string, Uint8Array>();
  const r = opts.report;
  const f = (x: number) => x.toFixed(2);
  const best = Math.max(r.psnr.nearestInput, r.psnr.meanOfInputs);
  const table = [
    `<table class="metrics"><tr><th></th><th>PSNR (dB)</th><th>vs better baseline</th><th>SSIM</th></tr>`,
    `<tr><th>model (predicted cameras)</th><td>${f(r.psnr.model)}</td><td>${r.psnr.model - best >= 0 ? "+" : ""}${f(r.psnr.model - best)}</td><td>${r.ssim.model.toFixed(3)}</td></tr>`,
    `<tr><th>copy the nearest input</th><td>${f(r.psnr.nearestInput)}</td><td></td><td>${r.ssim.nearestInput.toFixed(3)}</td></tr>`,
    `<tr><th>mean of the inputs</th><td>${f(r.psnr.meanOfInputs)}</td><td></td><td>${r.ssim.meanOfInputs.toFixed(3)}</td></tr>`,
    ...(r.blendCeilings
      ? [
          `<tr><th>inputs cross-faded at the true frame time (oracle)</th><td>${f(r.blendCeilings.crossFade)}</td><td></td><td></td></tr>`,
          `<tr><th>best mix of the inputs per target (oracle)</th><td>${f(r.blendCeilings.bestGlobalMix)}</td><td></td><td></td></tr>`,
        ]
      : []),
    `<tr><th>model with identity cameras (diagnostic)</th><td>${f(r.psnr.identityCameras)}</td><td></td><td></td></tr>`,
    `<tr><th>model with the true cameras (diagnostic)</th><td>${f(r.psnr.trueCameras)}</td><td></td><td></td></tr>`,
    `<tr><th>rotation error (°): model / identity</th><td colspan="3">${f(r.rotationErrorDeg.model)} / ${f(r.rotationErrorDeg.identity)}</td></tr>`,
    `<tr><th>focal (normalised): model / truth</th><td colspan="3">${r.focal.model.toFixed(3)} / ${r.focal.truth.toFixed(3)}</td></tr>`,
    `</table>`,
  ].join("");
  const rows: string[] = [];
  for (const [i, p] of opts.predictions.entries()) {
    const folder = `${REPORT_FILES_DIR}/model_${String(i).padStart(2, "0")}`;
    const { h, w } = p.scene;
    const k = opts.inputViews;
    const cell = async (name: string, img: Float32Array, label: string) => {
      const path = `${folder}/${name}.png`;
      images.set(path, await encodePng(img, h, w));
      return `<td><img src="${path}" width="${w * 3}" height="${h * 3}" alt="${escapeHtml(label)}"><div class="note">${escapeHtml(label)}</div></td>`;
    };
    const inputs = await Promise.all(p.order.slice(0, k).map((fi, j) => cell(`input_${j}`, p.scene.frames[fi]!.image, `input, frame ${fi}`)));
    const truth: string[] = [];
    const renders: string[] = [];
    const errors: string[] = [];
    for (const [j, fi] of p.order.slice(k).entries()) {
      const gt = p.scene.frames[fi]!.image;
      truth.push(await cell(`truth_${j}`, gt, `frame ${fi}`));
      renders.push(await cell(`render_${j}`, p.renders[j]!, `${f(psnrHost(p.renders[j]!, gt))} dB`));
      errors.push(await cell(`error_${j}`, errorMap(p.renders[j]!, gt, h * w), "|error|, 0–0.25"));
    }
    const c0 = p.scene.frames[p.order[0]!]!.camera!.c2w;
    const truePath: Frame[] = [...p.order].sort((a, b) => a - b).map((fi) => ({ ...p.scene.frames[fi]!, camera: { ...p.scene.frames[fi]!.camera!, c2w: mat4Mul(rigidInverse(c0), p.scene.frames[fi]!.camera!.c2w) } }));
    const predByFrame = new Map(p.order.map((fi, j) => [fi, p.c2w[j]!]));
    const predPath = [...p.order].sort((a, b) => a - b).map((fi) => predByFrame.get(fi)!);
    rows.push(
      [
        `<h3>held-out scene ${p.seed}</h3><div class="scene"><table>`,
        `<tr><th>inputs</th>${inputs.join("")}</tr>`,
        `<tr><th>target (truth)</th>${truth.join("")}</tr>`,
        `<tr><th>rendered</th>${renders.join("")}</tr>`,
        `<tr><th>error</th>${errors.join("")}</tr></table>`,
        `<figure>${cameraPathSvg(truePath, 200, predPath)}<figcaption>true path (dots) and predicted (dashed squares), relative to the first input</figcaption></figure></div>`,
      ].join(""),
    );
  }
  const html = [
    `<section class="model"><h2>${escapeHtml(opts.title)}</h2>`,
    `<p>${escapeHtml(opts.note)}</p>`,
    `<div class="scene">${table}<figure>${curveSvg(opts.metrics)}<figcaption>training curve: batch PSNR (grey), held-out PSNR of the model (red) vs nearest input (blue) and mean of inputs (green)</figcaption></figure></div>`,
    ...rows,
    `</section>`,
  ].join("\n");
  return { html, images };
}

/** |a − b| averaged over channels, through the turbo colour map (0 → dark blue, ≥ 0.25 → dark red). */
function errorMap(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const e = (Math.abs(a[i]! - b[i]!) + Math.abs(a[n + i]! - b[n + i]!) + Math.abs(a[2 * n + i]! - b[2 * n + i]!)) / 3;
    const [r, g, bl] = turbo(e / 0.25);
    out[i] = r;
    out[n + i] = g;
    out[2 * n + i] = bl;
  }
  return out;
}

/** An SVG line plot of batch PSNR (smoothed) and held-out PSNR against the two baselines. */
export function curveSvg(lines: readonly MetricsLine[], width = 420, height = 240): string {
  const train = lines.filter((l) => l.loss !== undefined && l.loss > 0).map((l) => [l.step, -10 * Math.log10(l.loss!)] as const);
  const evals = lines.filter((l) => l.eval).map((l) => ({ step: l.step, e: l.eval! }));
  const open = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" class="curve"><rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" fill="#fff" stroke="#ccc"/>`;
  if (train.length === 0) return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no training log</text></svg>`;
  const smooth = train.map(([s], i) => {
    const win = train.slice(Math.max(0, i - 4), i + 5);
    return [s, win.reduce((a, [, y]) => a + y, 0) / win.length] as const;
  });
  const ys = [...smooth.map(([, y]) => y), ...evals.flatMap(({ e }) => [e.psnr.model, e.psnr.nearestInput, e.psnr.meanOfInputs])];
  const [y0, y1] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys))];
  const x1 = Math.max(...train.map(([s]) => s));
  const pad = { l: 36, r: 10, t: 10, b: 24 };
  const px = (s: number) => pad.l + (s / x1) * (width - pad.l - pad.r);
  const py = (y: number) => height - pad.b - ((y - y0) / Math.max(1e-9, y1 - y0)) * (height - pad.t - pad.b);
  const line = (pts: readonly (readonly [number, number])[], colour: string, dash = "") =>
    `<path d="${pts.map(([s, y], i) => `${i ? "L" : "M"}${px(s).toFixed(1)} ${py(y).toFixed(1)}`).join(" ")}" fill="none" stroke="${colour}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
  const parts = [line(smooth, "#999")];
  if (evals.length) {
    parts.push(line(evals.map(({ step, e }) => [step, e.psnr.nearestInput]), "#1f77b4", "4 3"));
    parts.push(line(evals.map(({ step, e }) => [step, e.psnr.meanOfInputs]), "#2ca02c", "4 3"));
    parts.push(line(evals.map(({ step, e }) => [step, e.psnr.model]), "#d62728"));
    for (const { step, e } of evals) parts.push(`<circle cx="${px(step).toFixed(1)}" cy="${py(e.psnr.model).toFixed(1)}" r="3" fill="#d62728"/>`);
  }
  const axes = [
    `<text x="4" y="${py(y1) + 4}" class="axis">${y1} dB</text>`,
    `<text x="4" y="${py(y0)}" class="axis">${y0} dB</text>`,
    `<text x="${width - pad.r}" y="${height - 6}" text-anchor="end" class="axis">step ${x1}</text>`,
  ];
  return `${open}${parts.join("")}${axes.join("")}</svg>`;
}
