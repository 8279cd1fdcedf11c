/**
 * The motion estimator at inference, and the frozen RayZer pass stage 2 trains it on (docs/METHOD.md, "Motion
 * estimator"). One feed-forward pass per window: image tokens, the predicted cameras' ray tokens and the frozen
 * backbone's features of every view → per-pixel motion logits; no target view, rendering or residual is read.
 */
import { sceneLabel } from "../data/clip.ts";
import { jit, nn, numpy as np, type Array as JArray } from "@jax-js/jax";
import { ref } from "../engine/params.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { clipWindows, packImages, windowOrder } from "../data/sampling.ts";
import type { Scene } from "../data/scene.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { motionInputs, motionLogits } from "../model/wildrayzer.ts";
import type { Shape5 } from "./forward.ts";
import type { MaskTap } from "./maskTap.ts";

/** Probability above which a pixel is called moving when the estimator's output is binarised. */
export const MOTION_THRESHOLD = 0.5;

/**
 * The frozen backbone's feature maps of `m` planar images `images` [m, 3, h, w] on the device, [m, c, g, g]; or
 * zeros of that shape when `use` is false (the "no features" ablation).
 */
export function featureMaps(fx: FeatureExtractor, tap: MaskTap, images: Float32Array, m: number, h: number, w: number, channels: number, use = true): JArray {
  if (!use) return np.zeros([m, channels, h / tap.stride, w / tap.stride]);
  return fx.extract(np.array(images).reshape([m, 3, h, w]), [tap.name]).get(tap.name)!;
}

/**
 * The jitted frozen pass for stage 2: renders of the targets, and the targets' image and ray tokens.
 * `(params, images [b, v, 3, h, w]) → [renders, imageTokens, rayTokens]`; params are not consumed by the caller
 * (pass `ref(params)`).
 */
export function makeStaticPass(model: ModelConfig) {
  const targets = Array.from({ length: model.views - model.inputViews }, (_, i) => model.inputViews + i);
  return jit((p: RayZerParams, x: JArray) => {
    const out = motionInputs(p, x, model, targets);
    out.cameras.c2w.dispose();
    out.cameras.fxfycxcy.dispose();
    return [out.renders, out.imageTokens, out.rayTokens];
  });
}

/**
 * The jitted motion pass: `(params, images [b, v, 3, h, w], features [b, r, c, g', g']) → logits [b, r, h, w]` of
 * the views `views` (default: all; every view still informs the cameras).
 */
export function makeMotionPass(model: ModelConfig, views: readonly number[] = Array.from({ length: model.views }, (_, i) => i)) {
  const pass = jit((p: RayZerParams, x: JArray, feats: JArray) => {
    const motion = p.motion!;
    const out = motionInputs({ ...p, motion: undefined }, x, model, views);
    out.renders.dispose();
    out.cameras.c2w.dispose();
    out.cameras.fxfycxcy.dispose();
    return motionLogits(motion, feats, out.imageTokens, out.rayTokens, model);
  });
  return Object.assign(pass, { views: [...views] });
}

/** Per-pixel motion probabilities [b·r, h·w] of the pass's r views of a host batch (params not consumed). */
export async function motionProbabilities(
  pass: ReturnType<typeof makeMotionPass>,
  params: RayZerParams,
  model: ModelConfig,
  fx: FeatureExtractor,
  tap: MaskTap,
  images: Float32Array,
  shape: Shape5,
): Promise<Float32Array> {
  const [b, v, , h, w] = shape;
  const r = pass.views.length;
  const img = 3 * h * w;
  const channels = model.motion?.featureChannels ?? 0;
  let chosen = images;
  if (r !== v || pass.views.some((x, i) => x !== i)) {
    chosen = new Float32Array(b * r * img);
    for (let i = 0; i < b; i++) pass.views.forEach((x, j) => chosen.set(images.subarray((i * v + x) * img, (i * v + x + 1) * img), (i * r + j) * img));
  }
  const feats = featureMaps(fx, tap, chosen, b * r, h, w, channels);
  const [, c, gh, gw] = feats.shape as [number, number, number, number];
  const logits = pass(ref(params), np.array(images).reshape(shape), feats.reshape([b, r, c, gh, gw])) as JArray;
  return (await nn.sigmoid(logits).data()) as Float32Array;
}

/**
 * Motion masks of every frame of `clip` (at the model's working size) from the motion estimator: windows of the
 * model's views over the clip (inputs at the window ends, as in training), each frame keeping the mask of the
 * first window it lies in. Returns per frame the binary mask (1 = moving) and the probabilities.
 */
export async function clipMotionMasks(
  params: RayZerParams,
  model: ModelConfig,
  clip: Scene,
  fx: FeatureExtractor,
  tap: MaskTap,
  opts: { threshold?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ masks: Uint8Array[]; probabilities: Float32Array[] }> {
  if (!params.motion || !model.motion) throw new WildrayzerError("this model has no motion estimator (a stage-1 RayZer): use masks --pseudo, or train one with train --stage 2");
  const { h, w } = clip;
  const v = model.views;
  if (clip.frames.length < v) throw new WildrayzerError(`${sceneLabel(clip)}: ${clip.frames.length} frames, but the model needs at least ${v}`);
  const windows = clipWindows(clip.frames.length, v);
  const pass = makeMotionPass(model);
  const probs: (Float32Array | undefined)[] = new Array(clip.frames.length);
  try {
    for (const [i, win] of windows.entries()) {
      const order = windowOrder(win);
      const x = packImages(clip, order); // [v, 3, h, w]
      const p = await motionProbabilities(pass, params, model, fx, tap, x, [1, v, 3, h, w]);
      order.forEach((f, j) => (probs[f] ??= p.slice(j * h * w, (j + 1) * h * w)));
      opts.onProgress?.(i + 1, windows.length);
    }
  } finally {
    pass.dispose();
  }
  const t = opts.threshold ?? MOTION_THRESHOLD;
  const probabilities = probs.map((p) => p!);
  return { masks: probabilities.map((p) => Uint8Array.from(p, (q) => (q > t ? 1 : 0))), probabilities };
}
