/**
 * Novel views of a clip from a trained RayZer: choose `views` frames spread over the clip (the first and last are
 * the inputs, as in training: inputs at the two ends, targets in between), estimate all their cameras, re-render
 * the in-between frames from their estimated cameras, and render a camera path:
 * - `interpolate`: through the estimated cameras in frame order (slerp + linear centre), `frames` cameras;
 * - `orbit`: a small circle around the canonical (first input) camera, radius a quarter of the input baseline
 *   (at least 0.02 scene units), yawing and pitching ±3° toward the circle's centre line.
 * Cameras are OpenCV c2w relative to the first input, intrinsics in pixels of the working size. With an
 * `InputMasker` (a stage-3 model: src/pipeline/maskedInputs.ts) the input views' dynamic tokens are replaced for
 * every rendering: the re-renderings and the whole path use the one keep-mask of the inputs.
 */
import { sceneLabel } from "../data/clip.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { denormalizeIntrinsics, type Camera, type Intrinsics } from "../geometry/cameras.ts";
import { mat3Mul, mat4FromRt, mat4Mul, mat4Translation, norm3, rigidInverse } from "../geometry/mat4.ts";
import { axisAngleToMat3 } from "../geometry/rotations.ts";
import { cameraPath } from "../geometry/poses.ts";
import type { Scene } from "../data/scene.ts";
import { packImages } from "../data/sampling.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { makeInferenceForward, type Forward, type Shape5 } from "./forward.ts";
import { droppedFraction, tokenMaskRuntime, type InputMasker } from "./maskedInputs.ts";
import type { Runtime } from "./onnxForward.ts";

export const PATH_KINDS = ["interpolate", "orbit"] as const;
export type PathKind = (typeof PATH_KINDS)[number];

export type RenderOutput = {
  /** Clip frame indices used, in frame order, and which of them were inputs. */
  used: number[];
  inputs: number[];
  /** Estimated camera of each used frame (frame order). */
  cameras: Camera[];
  /** Re-renderings of the used non-input frames from their estimated cameras: [frame index, image [3, h, w]]. */
  reconstructions: [number, Float32Array][];
  path: Camera[];
  /** Novel views along `path`, [3, h, w] each. */
  images: Float32Array[];
  /** The input views' token keep-mask [k, n] every rendering used (absent: no tokens masked). */
  keep?: Float32Array;
  /** Fraction of the input tokens replaced (0 without masking). */
  dropped: number;
};

/** `count` frame indices spread evenly over `n` frames, first and last included. */
export function spreadFrames(n: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.round((i * (n - 1)) / (count - 1)));
}

/** The estimated cameras of a clip's spread frames, ready for rendering paths (see `estimateClip`). */
export type ClipEstimate = {
  /** Clip frame indices used, in frame order, and which of them were inputs. */
  used: number[];
  inputs: number[];
  /** Estimated camera of each used frame (frame order). */
  cameras: Camera[];
  /** Estimated cameras of the model's views, inputs first (the order `x` holds them in). */
  estimated: Camera[];
  /** Re-renderings of the used non-input frames from their estimated cameras: [frame index, image [3, h, w]]. */
  reconstructions: [number, Float32Array][];
  /** The model's input batch [1, v, 3, h, w] (inputs first) and its shape. */
  x: Float32Array;
  shape: Shape5;
  /** The input views' token keep-mask [1, k, n] the renderings use (absent: no tokens masked). */
  keep?: Float32Array;
};

/**
 * Chooses the model's `views` frames spread over clip `scene` (at the model's working size; inputs at the ends),
 * estimates their cameras and re-renders the in-between frames, with the input tokens `masker` marks dynamic
 * replaced (when given). `params` is not consumed.
 */
export async function estimateClip(params: RayZerParams, model: ModelConfig, scene: Scene, forward: Forward, masker?: InputMasker): Promise<ClipEstimate> {
  const v = model.views;
  const k = model.inputViews;
  const { h, w } = scene;
  if (h !== model.imageSize || w !== model.imageSize) throw new Error(`renderNovelViews: scene is ${w}×${h}, the model works at ${model.imageSize}²`);
  if (scene.frames.length < v) {
    throw new WildrayzerError(`${sceneLabel(scene)}: ${scene.frames.length} frames, but the model needs at least ${v} (${k} inputs + ${v - k} targets)`);
  }
  const used = spreadFrames(scene.frames.length, v);
  if (new Set(used).size !== v) throw new WildrayzerError(`${sceneLabel(scene)}: too few distinct frames`);
  const order = [used[0]!, used[v - 1]!, ...used.slice(1, v - 1)].slice(0, v); // inputs first (k = 2)
  if (k !== 2) throw new Error("renderNovelViews: models with 2 input views only");
  const img = 3 * h * w;
  const x = packImages(scene, order); // [v, 3, h, w]

  const shape: Shape5 = [1, v, 3, h, w];
  const keep = masker ? await masker.keep(x, shape) : undefined;
  const { renders: r, c2w: cams, fxfycxcy: intr } = await forward.estimate(params, x, shape, keep ? { keep } : {});
  const estimated = order.map((_, i): Camera => ({
    c2w: Array.from(cams.subarray(16 * i, 16 * i + 16)),
    fxfycxcy: denormalizeIntrinsics(Array.from(intr.subarray(4 * i, 4 * i + 4)) as Intrinsics, h, w),
  }));
  const byFrame = new Map(order.map((f, i) => [f, estimated[i]!]));
  const cameras = used.map((f) => byFrame.get(f)!);
  const reconstructions: [number, Float32Array][] = order.slice(k).map((f, j) => [f, r.slice(j * img, (j + 1) * img)]);
  return { used, inputs: order.slice(0, k), cameras, estimated, reconstructions, x, shape, ...(keep ? { keep } : {}) };
}

/**
 * Renders `path` (cameras in pixels of the working size) from the estimate's inputs, in chunks of v − k views with
 * the inputs' estimated cameras (target images are not read) and the estimate's keep-mask, if any. `params` is not
 * consumed.
 */
export async function renderCameraPath(
  params: RayZerParams,
  model: ModelConfig,
  est: ClipEstimate,
  path: readonly Camera[],
  forward: Forward,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array[]> {
  const k = model.inputViews;
  const m = model.views - k;
  const [, , , h, w] = est.shape;
  const img = 3 * h * w;
  const inputCams = est.estimated.slice(0, k);
  const images: Float32Array[] = [];
  for (let s = 0; s < path.length; s += m) {
    const chunk = path.slice(s, s + m);
    while (chunk.length < m) chunk.push(chunk[chunk.length - 1]!);
    const all = [...inputCams, ...chunk];
    const c2wArr = Float32Array.from(all.flatMap((c) => c.c2w));
    const kArr = Float32Array.from(all.flatMap((c) => [c.fxfycxcy[0] / w, c.fxfycxcy[1] / h, c.fxfycxcy[2] / w, c.fxfycxcy[3] / h]));
    const out = await forward.withCameras(params, est.x, est.shape, c2wArr, kArr, est.keep ? { keep: est.keep } : {});
    for (let j = 0; j < m && s + j < path.length; j++) images.push(out.slice(j * img, (j + 1) * img));
    onProgress?.(Math.min(path.length, s + m), path.length);
  }
  return images;
}

/**
 * Renders clip `scene` (at the model's working size) with `params` (not consumed); with `masker`, from masked
 * input tokens (on jax for a model with a noise token, which ONNX does not export).
 */
export async function renderNovelViews(
  params: RayZerParams,
  model: ModelConfig,
  scene: Scene,
  opts: { path: PathKind; frames: number; runtime?: Runtime; masker?: InputMasker; onProgress?: (done: number, total: number) => void },
): Promise<RenderOutput> {
  const forward = makeInferenceForward(model, tokenMaskRuntime(model, !!opts.masker, opts.runtime));
  try {
    const est = await estimateClip(params, model, scene, forward, opts.masker);
    const path = opts.path === "interpolate" ? interpolatePath(est.cameras, opts.frames) : orbitPath(est.estimated[0]!, est.estimated[1]!, opts.frames);
    const images = await renderCameraPath(params, model, est, path, forward, opts.onProgress);
    return { used: est.used, inputs: est.inputs, cameras: est.cameras, reconstructions: est.reconstructions, path, images, ...(est.keep ? { keep: est.keep } : {}), dropped: droppedFraction(est.keep) };
  } finally {
    forward.dispose();
  }
}

/** `frames` cameras through `keys` in order (both ends included). */
export function interpolatePath(keys: readonly Camera[], frames: number): Camera[] {
  const per = Math.max(1, Math.ceil((frames - 1) / (keys.length - 1)));
  const dense = cameraPath(keys, per);
  return Array.from({ length: frames }, (_, i) => dense[Math.round((i * (dense.length - 1)) / Math.max(1, frames - 1))]!);
}

/** `frames` cameras on a small circle around camera `a`, sized by the baseline from `a` to `b`. */
export function orbitPath(a: Camera, b: Camera, frames: number): Camera[] {
  const baseline = norm3(mat4Translation(mat4Mul(rigidInverse(a.c2w), b.c2w)));
  const radius = Math.max(0.02, baseline / 4);
  const tilt = (3 * Math.PI) / 180;
  return Array.from({ length: frames }, (_, i) => {
    const th = (2 * Math.PI * i) / frames;
    const [cx, cy] = [Math.cos(th), Math.sin(th)];
    // move on the camera's x–y plane and turn back toward the axis: yaw about y by −x offset, pitch about x by +y
    const rot = mat4FromRt(
      mat3Mul(axisAngleToMat3([0, 1, 0], -tilt * cx), axisAngleToMat3([1, 0, 0], tilt * cy)),
      [radius * cx, radius * cy, 0],
    );
    return { c2w: mat4Mul(a.c2w, rot), fxfycxcy: [...a.fxfycxcy] as Intrinsics };
  });
}
