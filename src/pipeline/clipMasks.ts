/**
 * Pseudo-motion masks for a clip with a trained RayZer as the static renderer (what `wildrayzer masks --pseudo`
 * runs; src/eval/pseudoMaskEval.ts measures the same on held-out synthetic scenes).
 *
 * The clip is cut into windows of the model's `views` consecutive frames; as in training, the two end frames of a
 * window are the inputs and the frames between are targets, rendered from the inputs with the cameras the model
 * estimates. The pipeline (src/masks) runs on each window's targets together (its vote is across them). Windows
 * step by `views − 1`, so every frame except the window ends is a target once; each remaining frame gets a window
 * of its own around it (at the clip's first and last frame that window extrapolates, which the model never trained
 * on: those masks are the least reliable). A frame keeps the mask of the first window that made one.
 */
import { WildrayzerError } from "../engine/errors.ts";
import type { Scene } from "../data/scene.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { PseudoMaskOptions, PseudoMaskResult } from "../masks/pipeline.ts";
import { clipWindows } from "../data/sampling.ts";
import { makeInferenceForward } from "./forward.ts";
import { pseudoLabels, type MaskTap } from "./pseudoLabels.ts";

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
  const forward = makeInferenceForward(model);
  const masks: (Uint8Array | undefined)[] = new Array(clip.frames.length);
  const out: WindowMasks[] = [];
  try {
    for (const [i, win] of windows.entries()) {
      const order = [...win.inputs, ...win.targets];
      const x = new Float32Array(v * img);
      order.forEach((f, j) => x.set(clip.frames[f]!.image, j * img));
      const { renders: r } = await forward.estimate(params, x, [1, v, 3, h, w]);
      const renders = win.targets.map((_, j) => r.slice(j * img, (j + 1) * img));
      const targets = win.targets.map((f) => clip.frames[f]!.image);
      const result = await pseudoLabels(fx, tap, targets, renders, h, w, opts.options);
      win.targets.forEach((f, j) => (masks[f] ??= result.masks[j]!));
      out.push({ window: win, renders, result });
      opts.onProgress?.(i + 1, windows.length);
    }
  } finally {
    forward.dispose();
  }
  return { masks: masks.map((m) => m!), windows: out };
}
