/**
 * Pseudo-motion masks for a clip with a trained RayZer as the static renderer (what `wildrayzer masks --pseudo`
 * runs; src/eval/pseudoMaskEval.ts measures the same on held-out synthetic scenes).
 *
 * The clip is cut into windows of the model's `views` consecutive frames; as in training, the two end frames of a
 * window are the inputs and the frames between are targets, rendered from the inputs with the cameras the model
 * estimates. The pipeline (src/masks) runs on each window's targets together (its vote is across them). Windows
 * step by `views − 1`, so every frame except the window ends is a target once; each remaining frame gets a window
 * of its own around it (at the clip's first and last frame that window extrapolates, which the model never trained
 * on: those masks are the least reliable). A frame keeps the mask of the first window that made one. With a
 * `masker` (a stage-3 model, src/pipeline/maskedInputs.ts) each window renders from its masked input tokens.
 */
import { sceneLabel } from "../data/clip.ts";
import { packImages, windowOrder } from "../data/sampling.ts";
import { WildrayzerError } from "../engine/errors.ts";
import type { Scene } from "../data/scene.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { PseudoMaskOptions, PseudoMaskResult } from "../masks/pipeline.ts";
import { maskWindows, type MaskWindow } from "./windows.ts";
import { makeInferenceForward } from "./forward.ts";
import { tokenMaskRuntime, type InputMasker } from "./maskedInputs.ts";
import type { Runtime } from "./onnxForward.ts";
import { pseudoLabels, type MaskTap } from "./pseudoLabels.ts";

export { maskWindows, type MaskWindow } from "./windows.ts";

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
  opts: { options?: Partial<PseudoMaskOptions>; runtime?: Runtime; masker?: InputMasker; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ masks: Uint8Array[]; windows: WindowMasks[] }> {
  const { h, w } = clip;
  const v = model.views;
  if (model.inputViews !== 2) throw new Error("clipPseudoMasks: models with 2 input views only");
  if (h !== model.imageSize || w !== model.imageSize) throw new Error(`clipPseudoMasks: clip is ${w}×${h}, the model works at ${model.imageSize}²`);
  if (h % tap.stride !== 0) throw new WildrayzerError(`${sceneLabel(clip)}: working size ${h} is not a multiple of the feature stride ${tap.stride}`);
  if (clip.frames.length < v) throw new WildrayzerError(`${sceneLabel(clip)}: ${clip.frames.length} frames, but masks need at least ${v} (2 inputs + ${v - 2} targets per window)`);
  const windows = maskWindows(clip.frames.length, v);
  const img = 3 * h * w;
  const forward = makeInferenceForward(model, tokenMaskRuntime(model, !!opts.masker, opts.runtime));
  const masks: (Uint8Array | undefined)[] = new Array(clip.frames.length);
  const out: WindowMasks[] = [];
  try {
    for (const [i, win] of windows.entries()) {
      const x = packImages(clip, windowOrder(win)); // [v, 3, h, w]
      const keep = opts.masker ? await opts.masker.keep(x, [1, v, 3, h, w]) : undefined;
      const { renders: r } = await forward.estimate(params, x, [1, v, 3, h, w], keep ? { keep } : {});
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
