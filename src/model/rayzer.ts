/**
 * The RayZer core, composed: image tokens for all views → camera estimator (poses + shared focal for all views)
 * → Plücker rays → scene encoder over the first `inputViews` views → renderer for the requested views.
 * Returns arrays only. Reference: docs/METHOD.md §2 (forward pass) and §3 (the first K views of a sample are the
 * inputs, the rest targets; targets are rendered from their *predicted* cameras).
 */
import { numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { dispose } from "../engine/params.ts";
import { denormalizeIntrinsicsArray } from "../geometry/cameras.ts";
import { pluckerRays } from "../geometry/rays.ts";
import { splitViews, type ModelConfig } from "./config.ts";
import { initCameraEstimator, runCameraEstimator, type CameraEstimatorParams, type Cameras } from "./cameraEstimator.ts";
import { initRenderer, runRenderer, type RendererParams } from "./renderer.ts";
import { initSceneEncoder, runSceneEncoder, type SceneEncoderParams } from "./sceneEncoder.ts";
import { initTokenizer, runTokenizer, type TokenizerParams } from "./tokens.ts";
import { initMotionEstimator, type MotionEstimatorParams } from "./motionEstimator.ts";

export type RayZerParams = {
  tokenizer: TokenizerParams;
  cameraEstimator: CameraEstimatorParams;
  sceneEncoder: SceneEncoderParams;
  renderer: RendererParams;
  /** WildRayZer's motion estimator, when the config has one (src/model/wildrayzer.ts runs it). */
  motion?: MotionEstimatorParams;
};

export type RayZerOutput = {
  /** Renderings of the requested views [b, r, 3, h, w] in [0, 1]. */
  renders: JArray;
  /** Predicted cameras of all v views (view 0 = identity; normalised intrinsics). */
  cameras: Cameras;
};

export function initRayZer(key: JArray, cfg: ModelConfig): RayZerParams {
  // without a motion estimator the key splits as it always did (the same initial RayZer for the same seed)
  const [kTok, kCam, kEnc, kRen, kMot] = random.split(key, cfg.motion ? 5 : 4) as unknown as JArray[];
  const params: RayZerParams = {
    tokenizer: initTokenizer(kTok!, cfg),
    cameraEstimator: initCameraEstimator(kCam!, cfg),
    sceneEncoder: initSceneEncoder(kEnc!, cfg),
    renderer: initRenderer(kRen!, cfg),
  };
  if (cfg.motion) params.motion = initMotionEstimator(kMot!, cfg.motion);
  return params;
}

/**
 * Selects views `idx` along axis 1, as slices of contiguous runs joined by one concatenate. (A gather — `np.take`
 * — would differentiate into a scatter, which jax-js 0.1.25 cannot jit.) Consumes `x` [b, v, ...]; returns
 * [b, idx.length, ...].
 */
export function takeViews(x: JArray, idx: readonly number[]): JArray {
  const runs: [number, number][] = [];
  for (const i of idx) {
    const last = runs.at(-1);
    if (last && last[1] === i) last[1] = i + 1;
    else runs.push([i, i + 1]);
  }
  if (runs.length === 1) return x.slice([], runs[0]!);
  const parts = runs.map((r, j) => (j === runs.length - 1 ? x : x.ref).slice([], r));
  return np.concatenate(parts, 1);
}

/**
 * Shapes: b samples, v views, k = cfg.inputViews inputs, r rendered views.
 * Consumes `p`, `images` [b, v, 3, h, w] and `keep` ([b, k, n] token keep-mask of the input views, or null). The
 * inputs are `splitViews(cfg, v).inputs` (the first k views unless `viewSplit: "gcd"`). `render` lists the view
 * indices to render (static; default: the targets). `cameras` (consumed) overrides the estimated ones.
 */
export function runRayZer(
  p: RayZerParams,
  images: JArray,
  cfg: ModelConfig,
  opts: { render?: readonly number[]; keep?: JArray | null; cameras?: Cameras } = {},
): RayZerOutput {
  if (p.motion) dispose(p.motion); // the static path does not read it
  const tokens = runTokenizer(p.tokenizer, images, cfg); // [b, v, n, d]
  // A given `cameras` replaces the estimator (diagnostics: identity or ground-truth cameras).
  let cameras: Cameras;
  if (opts.cameras) {
    cameras = opts.cameras;
    dispose(p.cameraEstimator);
  } else cameras = runCameraEstimator(p.cameraEstimator, tokens.ref, cfg);
  const renders = renderFromCameras(p, tokens, { c2w: cameras.c2w.ref, fxfycxcy: cameras.fxfycxcy.ref }, cfg, opts);
  return { renders, cameras };
}

/**
 * The scene encoder and renderer given image tokens and cameras (the second half of `runRayZer`).
 * Consumes `p.sceneEncoder`, `p.renderer`, `tokens` [b, v, n, d], `cameras` and `keep`; returns renders [b, r, 3, h, w].
 */
export function renderFromCameras(
  p: Pick<RayZerParams, "sceneEncoder" | "renderer">,
  tokens: JArray,
  cameras: Cameras,
  cfg: ModelConfig,
  opts: { render?: readonly number[]; keep?: JArray | null } = {},
): JArray {
  const v = tokens.shape[1]!;
  const { imageSize } = cfg;
  const split = splitViews(cfg, v);
  const render = opts.render ?? split.targets;
  const inputIdx = split.inputs;
  const rays = cameraRays(cameras, imageSize, imageSize); // [b, v, 6, h, w]
  const scene = runSceneEncoder(p.sceneEncoder, takeViews(tokens, inputIdx), takeViews(rays.ref, inputIdx), opts.keep ?? null, cfg);
  return runRenderer(p.renderer, takeViews(rays, render), scene.latent, scene.inputs, cfg); // [b, r, 3, h, w]
}

/** Plücker rays of cameras (normalised intrinsics) at h × w. Consumes `cameras`; returns [b, v, 6, h, w]. */
export function cameraRays(cameras: Cameras, h: number, w: number): JArray {
  const pixels = denormalizeIntrinsicsArray(cameras.fxfycxcy, h, w); // [b, v, 4]
  return pluckerRays(cameras.c2w, pixels, h, w); // [b, v, 6, h, w]
}
