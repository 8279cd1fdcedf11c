/**
 * WildRayZer against RayZer on dynamic scenes (docs/METHOD.md §7): several
 * trained models ("arms"), each evaluated with its own test-time token masks on the same held-out dynamic scenes at
 * several input-view counts; a Markdown table of the paper's numbers (PSNR / SSIM / perceptual distance on static
 * pixels, PSNR against the clean static frame, mask IoU, rotation error), and a report section with, per scene, the
 * same targets rendered by each arm beside the clean truth, the motion estimator's masks and the dropped tokens.
 */
import { encodePng } from "../data/images.ts";
import type { SynthConfig } from "../data/config.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { MOTION_THRESHOLD } from "../pipeline/motion.ts";
import type { Runtime } from "../pipeline/onnxForward.ts";
import { evaluateStage1, predictHeldOut, type EvalReport, type Prediction, type TokenMaskSource } from "./evaluate.ts";
import { overlayMask } from "./maskReport.ts";
import { psnrHost } from "./metrics.ts";
import { REPORT_FILES_DIR, escapeHtml, type ReportSection } from "./report.ts";

export type Arm = { name: string; params: RayZerParams; model: ModelConfig; tokenMasks: TokenMaskSource };
export type ArmResult = { arm: string; inputs: number; tokenMasks: TokenMaskSource; report: EvalReport };

/** The model with `k` input views (the same weights; the rest of its views are targets). */
export function withInputs(model: ModelConfig, k: number): ModelConfig {
  if (k >= model.views) throw new Error(`withInputs: ${k} inputs leave no target of ${model.views} views`);
  return { ...model, inputViews: k };
}

/** Every arm at every input count on the same held-out scenes of `data` (params not consumed). */
export async function compareArms(
  arms: readonly Arm[],
  data: SynthConfig,
  opts: { scenes: number; inputs: readonly number[]; features: FeatureExtractor; runtime?: Runtime; onProgress?: (done: number, total: number) => void },
): Promise<ArmResult[]> {
  const out: ArmResult[] = [];
  const total = arms.length * opts.inputs.length;
  for (const k of opts.inputs) {
    for (const arm of arms) {
      const report = await evaluateStage1(arm.params, withInputs(arm.model, k), data, { scenes: opts.scenes, features: opts.features, tokenMasks: arm.tokenMasks, ...(opts.runtime ? { runtime: opts.runtime } : {}) });
      out.push({ arm: arm.name, inputs: k, tokenMasks: arm.tokenMasks, report });
      opts.onProgress?.(out.length, total);
    }
  }
  return out;
}

const f2 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : "n/a");
const f3 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(3) : "n/a");

/** The comparison as a Markdown table, one row per (input count, arm), the baselines of each input count first. */
export function comparisonMarkdown(results: readonly ArmResult[]): string {
  const head =
    "| inputs | arm | test-time token masks | PSNR static px (dB) | SSIM static px | perceptual static px ↓ | PSNR vs clean frame (dB) | PSNR vs observed (dB) | mask IoU | tokens replaced | rotation error (°) |";
  const rule = "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|";
  const rows: string[] = [head, rule];
  for (const k of [...new Set(results.map((r) => r.inputs))]) {
    const group = results.filter((r) => r.inputs === k);
    const r0 = group[0]!.report;
    rows.push(
      `| ${k} | *copy the nearest input* | | ${f2(r0.psnrStatic.nearestInput)} | ${f3(r0.ssimStatic?.nearestInput)} | ${f3(r0.perceptualStatic?.nearestInput)} | ${f2(r0.psnrClean?.nearestInput)} | ${f2(r0.psnr.nearestInput)} | | | |`,
      `| ${k} | *mean of the inputs* | | ${f2(r0.psnrStatic.meanOfInputs)} | ${f3(r0.ssimStatic?.meanOfInputs)} | ${f3(r0.perceptualStatic?.meanOfInputs)} | ${f2(r0.psnrClean?.meanOfInputs)} | ${f2(r0.psnr.meanOfInputs)} | | | |`,
    );
    for (const { arm, tokenMasks, report: r } of group) {
      const iou = r.maskIoU && Number.isFinite(r.maskIoU.model) ? f3(r.maskIoU.model) : "";
      const dropped = r.tokenMasks && r.tokenMasks.source !== "none" ? `${(100 * r.tokenMasks.dropped).toFixed(0)} %` : "";
      rows.push(
        `| ${k} | ${arm} | ${tokenMasks} | ${f2(r.psnrStatic.model)} | ${f3(r.ssimStatic?.model)} | ${f3(r.perceptualStatic?.model)} | ${f2(r.psnrClean?.model)} | ${f2(r.psnr.model)} | ${iou} | ${dropped} | ${f2(r.rotationErrorDeg.model)} |`,
      );
    }
  }
  return rows.join("\n");
}

/** The frame with the dropped tokens' patches tinted (keep [n], row-major over the patch grid). */
export function overlayTokens(image: Float32Array, keep: Float32Array, h: number, w: number, patch: number): Float32Array {
  const gw = w / patch;
  const mask = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = keep[Math.floor(y / patch) * gw + Math.floor(x / patch)] === 0 ? 1 : 0;
  return overlayMask(image, mask);
}

/**
 * The report section: `note`, the table (HTML), and per held-out scene the inputs (dropped tokens tinted, per arm
 * that masks), the observed targets, their clean static frames, each arm's renders (static-pixel PSNR under each)
 * and the motion estimator's target masks.
 */
export async function comparisonSection(opts: {
  title: string;
  note: string;
  results: readonly ArmResult[];
  arms: readonly Arm[];
  data: SynthConfig;
  seeds: readonly number[];
  features: FeatureExtractor;
  runtime?: Runtime;
  scale?: number;
}): Promise<ReportSection> {
  const images = new Map<string, Uint8Array>();
  const scale = opts.scale ?? 3;
  const predictions: Prediction[][] = [];
  for (const arm of opts.arms) predictions.push(await predictHeldOut(arm.params, arm.model, opts.data, opts.seeds, opts.runtime, { features: opts.features, tokenMasks: arm.tokenMasks }));
  const k2 = opts.results.filter((r) => r.inputs === opts.arms[0]!.model.inputViews);
  const table = [
    `<table class="metrics"><tr><th>arm</th><th>token masks</th><th>PSNR static px</th><th>SSIM static px</th><th>PSNR vs clean</th><th>mask IoU</th></tr>`,
    ...(k2.length
      ? [
          `<tr><th>copy the nearest input</th><td></td><td>${f2(k2[0]!.report.psnrStatic.nearestInput)}</td><td>${f3(k2[0]!.report.ssimStatic?.nearestInput)}</td><td>${f2(k2[0]!.report.psnrClean?.nearestInput)}</td><td></td></tr>`,
          `<tr><th>mean of the inputs</th><td></td><td>${f2(k2[0]!.report.psnrStatic.meanOfInputs)}</td><td>${f3(k2[0]!.report.ssimStatic?.meanOfInputs)}</td><td>${f2(k2[0]!.report.psnrClean?.meanOfInputs)}</td><td></td></tr>`,
        ]
      : []),
    ...k2.map(
      (r) =>
        `<tr><th>${escapeHtml(r.arm)}</th><td>${r.tokenMasks}</td><td>${f2(r.report.psnrStatic.model)}</td><td>${f3(r.report.ssimStatic?.model)}</td><td>${f2(r.report.psnrClean?.model)}</td><td>${r.report.maskIoU && Number.isFinite(r.report.maskIoU.model) ? f3(r.report.maskIoU.model) : ""}</td></tr>`,
    ),
    `</table>`,
  ].join("");
  const blocks: string[] = [];
  for (const [si, seed] of opts.seeds.entries()) {
    const folder = `${REPORT_FILES_DIR}/comparison_${String(si).padStart(2, "0")}`;
    const base = predictions[0]![si]!;
    const { h, w } = base.scene;
    const k = opts.arms[0]!.model.inputViews;
    const cell = async (name: string, img: Float32Array, label: string) => {
      const path = `${folder}/${name}.png`;
      images.set(path, await encodePng(img, h, w));
      return `<td><img src="${path}" width="${w * scale}" height="${h * scale}" alt="${escapeHtml(label)}"><div class="note">${escapeHtml(label)}</div></td>`;
    };
    const rows: string[] = [];
    const targets = base.order.slice(k);
    rows.push(`<tr><th>inputs</th>${(await Promise.all(base.order.slice(0, k).map((fi, j) => cell(`input_${j}`, base.scene.frames[fi]!.image, `input, frame ${fi}`)))).join("")}</tr>`);
    for (const [ai, arm] of opts.arms.entries()) {
      const p = predictions[ai]![si]!;
      if (!p.keep) continue;
      const n = p.keep.length / k;
      const cells = await Promise.all(
        base.order.slice(0, k).map((fi, j) => cell(`tokens_${ai}_${j}`, overlayTokens(base.scene.frames[fi]!.image, p.keep!.subarray(j * n, (j + 1) * n), h, w, arm.model.patch), `replaced tokens (${arm.tokenMasks})`)),
      );
      rows.push(`<tr><th>${escapeHtml(arm.name)}: input tokens replaced</th>${cells.join("")}</tr>`);
    }
    rows.push(`<tr><th>target (observed)</th>${(await Promise.all(targets.map((fi, j) => cell(`target_${j}`, base.scene.frames[fi]!.image, `frame ${fi}`)))).join("")}</tr>`);
    rows.push(`<tr><th>clean static truth</th>${(await Promise.all(targets.map((fi, j) => cell(`clean_${j}`, base.scene.frames[fi]!.static ?? base.scene.frames[fi]!.image, "movers removed")))).join("")}</tr>`);
    for (const [ai, arm] of opts.arms.entries()) {
      const p = predictions[ai]![si]!;
      const cells = await Promise.all(
        targets.map((fi, j) => {
          const frame = base.scene.frames[fi]!;
          const keep = frame.mask ? Float32Array.from(frame.mask, (m) => 1 - m) : undefined;
          return cell(`render_${ai}_${j}`, p.renders[j]!, `${f2(psnrHost(p.renders[j]!, frame.image, keep))} dB static px`);
        }),
      );
      rows.push(`<tr><th>${escapeHtml(arm.name)}</th>${cells.join("")}</tr>`);
    }
    const withMotion = opts.arms.findIndex((_, ai) => predictions[ai]![si]!.motion);
    if (withMotion >= 0) {
      const p = predictions[withMotion]![si]!;
      const cells = await Promise.all(
        targets.map((fi, j) => cell(`motion_${j}`, overlayMask(base.scene.frames[fi]!.image, Uint8Array.from(p.motion![j]!, (q) => (q > MOTION_THRESHOLD ? 1 : 0))), `motion estimator > ${MOTION_THRESHOLD}`)),
      );
      rows.push(`<tr><th>motion estimator (${escapeHtml(opts.arms[withMotion]!.name)})</th>${cells.join("")}</tr>`);
      rows.push(`<tr><th>true motion mask</th>${(await Promise.all(targets.map((fi, j) => cell(`truth_${j}`, overlayMask(base.scene.frames[fi]!.image, base.scene.frames[fi]!.mask ?? new Uint8Array(h * w)), "true mask")))).join("")}</tr>`);
    }
    blocks.push(`<h3>held-out dynamic scene ${seed}</h3><div class="scene"><table>${rows.join("")}</table></div>`);
  }
  const html = [`<section class="model"><h2>${escapeHtml(opts.title)}</h2>`, `<p>${escapeHtml(opts.note)}</p>`, table, ...blocks, `</section>`].join("\n");
  return { html, images };
}
