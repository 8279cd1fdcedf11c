/**
 * Measuring the pseudo-mask pipeline (src/masks) against ground truth with a stand-in renderer: on synthetic
 * dynamic scenes the generator's clean static frame is a perfect static rendering; `degradeStatic` makes it
 * imperfect at graded strengths (blur, noise, a sub-pixel shift, a colour shift), like a renderer that is still
 * learning, so the pipeline's quality can be told apart from the renderer's. `evaluatePseudoMasks` runs the
 * pipeline on held-out scenes (patch features from the bundled backbone, run here: eval/ may import features/) and
 * returns the mean IoU against the true motion masks.
 */
import { makeRng } from "../engine/rng.ts";
import { HELD_OUT_SEED_START, type SynthConfig } from "../data/config.ts";
import { generateScene } from "../data/synth/index.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { pseudoMasks, type PseudoMaskOptions } from "../masks/pipeline.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { meanIou, pseudoMaskInput, type MaskTap } from "../pipeline/pseudoLabels.ts";
import { predictHeldOut } from "./evaluate.ts";
import { gaussianBlur } from "../engine/blur.ts";

/** Degradation strengths: 0 none … 3 strong. */
export const DEGRADATION_LEVELS = [
  { name: "none", blur: 0, noise: 0, shift: 0, colour: 0 },
  { name: "mild", blur: 0.5, noise: 0.01, shift: 0.25, colour: 0.02 },
  { name: "moderate", blur: 1.0, noise: 0.02, shift: 0.5, colour: 0.04 },
  { name: "strong", blur: 1.5, noise: 0.04, shift: 1.0, colour: 0.08 },
] as const;
export type Degradation = (typeof DEGRADATION_LEVELS)[number];

/** A degraded copy of planar RGB `img` [3, h, w]: shift (bilinear), separable Gaussian blur, colour gain, noise. */
export function degradeStatic(img: Float32Array, h: number, w: number, d: Degradation, seed: number): Float32Array {
  const rng = makeRng(seed);
  const n = h * w;
  let out: Float32Array = Float32Array.from(img);
  if (d.shift > 0) {
    const angle = rng.next() * 2 * Math.PI;
    const [dx, dy] = [d.shift * Math.cos(angle), d.shift * Math.sin(angle)];
    const src = out;
    out = new Float32Array(3 * n);
    const at = (c: number, y: number, x: number) => src[c * n + Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))]!;
    for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const sx = x - dx;
      const sy = y - dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      out[c * n + y * w + x] = (1 - fy) * ((1 - fx) * at(c, y0, x0) + fx * at(c, y0, x0 + 1)) + fy * ((1 - fx) * at(c, y0 + 1, x0) + fx * at(c, y0 + 1, x0 + 1));
    }
  }
  if (d.blur > 0) out = gaussianBlur(out, 3, h, w, d.blur);
  const gains = [0, 1, 2].map(() => 1 + d.colour * (2 * rng.next() - 1));
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = out[c * n + i]! * gains[c]! + d.noise * (rng.next() + rng.next() + rng.next() - 1.5) * 2;
      out[c * n + i] = Math.min(1, Math.max(0, v));
    }
  }
  return out;
}

/** A sample's pipeline inputs from a synthetic dynamic scene, its static frames degraded at `level` (the stand-in). */
export async function standInInputs(fx: FeatureExtractor, tap: MaskTap, data: SynthConfig, seed: number, level: Degradation) {
  const S = data.size;
  const scene = generateScene(seed, data);
  const targets = scene.frames.map((f) => f.image);
  const renders = scene.frames.map((f, j) => degradeStatic(f.static ?? f.image, S, S, level, seed * 16 + j));
  const input = await pseudoMaskInput(fx, tap, targets, renders, S, S);
  return { scene, input, truth: scene.frames.map((f) => f.mask ?? new Uint8Array(S * S)) };
}

/**
 * Mean IoU (over frames) of the pipeline's masks against the true masks on `scenes` held-out scenes (seeds from
 * HELD_OUT_SEED_START + `offset`), the static frames degraded at `level`, for each named set of options (the
 * backbone runs once per scene for all of them). Also the milliseconds per frame each variant took.
 */
export async function evaluatePseudoMasks(
  fx: FeatureExtractor,
  tap: MaskTap,
  data: SynthConfig,
  opts: { scenes: number; level: Degradation; variants: Record<string, Partial<PseudoMaskOptions>>; offset?: number },
): Promise<Record<string, { miou: number; frames: number; msPerFrame: number }>> {
  const names = Object.keys(opts.variants);
  const sums = Object.fromEntries(names.map((k) => [k, { iou: 0, frames: 0, ms: 0 }]));
  for (let i = 0; i < opts.scenes; i++) {
    const { input, truth } = await standInInputs(fx, tap, data, HELD_OUT_SEED_START + (opts.offset ?? 20_000) + i, opts.level);
    for (const k of names) {
      const t0 = performance.now();
      const r = await pseudoMasks(input, opts.variants[k]);
      sums[k]!.ms += performance.now() - t0;
      sums[k]!.iou += meanIou(r.masks, truth) * truth.length;
      sums[k]!.frames += truth.length;
    }
  }
  return Object.fromEntries(names.map((k) => [k, { miou: sums[k]!.iou / sums[k]!.frames, frames: sums[k]!.frames, msPerFrame: sums[k]!.ms / sums[k]!.frames }]));
}

/**
 * The pipeline with the model's real renderings on held-out synthetic dynamic scenes (`data` with movers): each
 * sample's targets rendered from its two inputs, masks compared with the true ones. Mean IoU over target frames.
 */
export async function evaluateModelPseudoMasks(
  params: RayZerParams,
  model: ModelConfig,
  data: SynthConfig,
  fx: FeatureExtractor,
  tap: MaskTap,
  opts: { seeds: readonly number[]; variants: Record<string, Partial<PseudoMaskOptions>>; batch?: number },
): Promise<Record<string, { miou: number; frames: number }>> {
  const names = Object.keys(opts.variants);
  const sums = Object.fromEntries(names.map((k) => [k, { iou: 0, frames: 0 }]));
  const batch = opts.batch ?? 8;
  const S = data.size;
  for (let s = 0; s < opts.seeds.length; s += batch) {
    for (const p of await predictHeldOut(params, model, data, opts.seeds.slice(s, s + batch))) {
      const tIdx = p.order.slice(model.inputViews);
      const targets = tIdx.map((f) => p.scene.frames[f]!.image);
      const truth = tIdx.map((f) => p.scene.frames[f]!.mask ?? new Uint8Array(S * S));
      const input = await pseudoMaskInput(fx, tap, targets, p.renders, S, S);
      for (const k of names) {
        const r = await pseudoMasks(input, opts.variants[k]);
        sums[k]!.iou += meanIou(r.masks, truth) * truth.length;
        sums[k]!.frames += truth.length;
      }
    }
  }
  return Object.fromEntries(names.map((k) => [k, { miou: sums[k]!.iou / sums[k]!.frames, frames: sums[k]!.frames }]));
}
