/**
 * Pseudo-motion masks for a clip with a trained RayZer as the static renderer (what `wildrayzer masks --pseudo`
 * runs), and the same measured on held-out synthetic dynamic scenes against their true masks.
 *
 * The clip is cut into windows of the model's `views` consecutive frames; as in training, the two end frames of a
 * window are the inputs and the frames between are targets, rendered from the inputs with the cameras the model
 * estimates. The pipeline (src/masks) runs on each window's targets together (its vote is across them). Windows
 * step by `views − 1`, so every frame except the window ends is a target once; each remaining frame gets a window
 * of its own around it (at the clip's first and last frame that window extrapolates, which the model never trained
 * on: those masks are the least reliable). A frame keeps the mask of the first window that made one.
 */
import { jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { ref } from "../engine/params.ts";
import { WildrayzerError } from "../engine/errors.ts";
import type { Scene } from "../data/scene.ts";
import type { SynthConfig } from "../data/config.ts";
import type { ModelConfig } from "../model/config.ts";
import { runRayZer, type RayZerParams } from "../model/rayzer.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { pseudoMasks, type PseudoMaskOptions, type PseudoMaskResult } from "../masks/pipeline.ts";
import { predictHeldOut } from "./evaluate.ts";
import { clipWindows } from "../data/sampling.ts";
import { meanIou, patchFeatures } from "./pseudoMaskEval.ts";

/** One window of a clip: frame indices, inputs first. */
export type MaskWindow = { inputs: number[]; targets: number[] };

/** The windows that give every frame of an `n`-frame clip a mask, for a model of `views` views and 2 inputs. */
export function maskWindows(n: number, views: number): MaskWindow[] {
  const windows: MaskWindow[] = clipWindows(n, views);
  const covered = new Set(windows.flatMap((w) => w.targets));
  const add = (start: number, inputs: number[]) => {
    const frames = Array.from({ length: views }, (_, i) => start + i);
    const targets = frames.filter((f) => !inputs.includes(f));
    windows.push({ inputs, targets });
    for (const t of targets) covered.add(t);
  };
  for (let f = 0; f < n; f++) {
    if (covered.has(f)) continue;
    const start = Math.max(0, Math.min(n - views, f - Math.floor(views / 2)));
    const frames = Array.from({ length: views }, (_, i) => start + i).filter((x) => x !== f);
    add(start, [frames[0]!, frames[frames.length - 1]!]);
  }
  return windows;
}

export type WindowMasks = { window: MaskWindow; renders: Float32Array[]; result: PseudoMaskResult };

/** The feature tap the pipeline uses (bundled MobileNetV2, stride 4: a 16×16 grid at 64², 8×8 at 32²). */
export type MaskTap = { name: string; stride: number };

/**
 * Runs the model on every window of `clip` (at the model's working size) and the pipeline on its targets.
 * Returns one mask per frame (working size, 1 = moving) and every window's renders and stages (for --debug).
 */
export async function clipPseudoMasks(
  params: RayZerParams,
  model: ModelConfig,
  clip: Scene,
  fx: FeatureExtractor,
  tap: MaskTap,
  opts: { options?: Partial<PseudoMaskOptions>; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ masks: Uint8Array[]; windows: WindowMasks[] }> {
  const { h, w } = clip;
  const v = model.views;
  if (model.inputViews !== 2) throw new Error("clipPseudoMasks: models with 2 input views only");
  if (h !== model.imageSize || w !== model.imageSize) throw new Error(`clipPseudoMasks: clip is ${w}×${h}, the model works at ${model.imageSize}²`);
  if (h % tap.stride !== 0) throw new WildrayzerError(`${clip.name}: working size ${h} is not a multiple of the feature stride ${tap.stride}`);
  if (clip.frames.length < v) throw new WildrayzerError(`${clip.name}: ${clip.frames.length} frames, but masks need at least ${v} (2 inputs + ${v - 2} targets per window)`);
  const windows = maskWindows(clip.frames.length, v);
  const img = 3 * h * w;
  const forward = jit((p: RayZerParams, xs: JArray) => runRayZer(p, xs, model).renders);
  const masks: (Uint8Array | undefined)[] = new Array(clip.frames.length);
  const out: WindowMasks[] = [];
  try {
    for (const [i, win] of windows.entries()) {
      const order = [...win.inputs, ...win.targets];
      const x = new Float32Array(v * img);
      order.forEach((f, j) => x.set(clip.frames[f]!.image, j * img));
      const r = (await (forward(ref(params), np.array(x).reshape([1, v, 3, h, w])) as JArray).data()) as Float32Array;
      const renders = win.targets.map((_, j) => r.slice(j * img, (j + 1) * img));
      const targets = win.targets.map((f) => clip.frames[f]!.image);
      const featTargets = await patchFeatures(fx, tap.name, targets, h, w);
      const featRenders = await patchFeatures(fx, tap.name, renders, h, w);
      const g = h / tap.stride;
      const result = await pseudoMasks(
        { targets, renders, h, w, featTargets, featRenders, channels: featTargets.length / (targets.length * g * g), grid: g },
        opts.options,
      );
      win.targets.forEach((f, j) => (masks[f] ??= result.masks[j]!));
      out.push({ window: win, renders, result });
      opts.onProgress?.(i + 1, windows.length);
    }
  } finally {
    forward.dispose();
  }
  return { masks: masks.map((m) => m!), windows: out };
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
  const g = S / tap.stride;
  for (let s = 0; s < opts.seeds.length; s += batch) {
    for (const p of await predictHeldOut(params, model, data, opts.seeds.slice(s, s + batch))) {
      const tIdx = p.order.slice(model.inputViews);
      const targets = tIdx.map((f) => p.scene.frames[f]!.image);
      const truth = tIdx.map((f) => p.scene.frames[f]!.mask ?? new Uint8Array(S * S));
      const featTargets = await patchFeatures(fx, tap.name, targets, S, S);
      const featRenders = await patchFeatures(fx, tap.name, p.renders, S, S);
      const input = { targets, renders: p.renders, h: S, w: S, featTargets, featRenders, channels: featTargets.length / (targets.length * g * g), grid: g };
      for (const k of names) {
        const r = await pseudoMasks(input, opts.variants[k]);
        sums[k]!.iou += meanIou(r.masks, truth) * truth.length;
        sums[k]!.frames += truth.length;
      }
    }
  }
  return Object.fromEntries(names.map((k) => [k, { miou: sums[k]!.iou / sums[k]!.frames, frames: sums[k]!.frames }]));
}
