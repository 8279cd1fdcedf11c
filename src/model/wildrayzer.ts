/**
 * WildRayZer's parts composed around the RayZer core (src/model/rayzer.ts): what the motion estimator reads for a
 * set of views — the image tokens from before the camera estimator and the Plücker tokens of the views' predicted
 * cameras (the renderer's ray tokenizer) — next to the static renderings of the targets, in one pass; and the
 * motion logits from those. The estimator never reads a rendering or a residual: its logits for a view depend on
 * that view's image, features and camera only. docs/METHOD.md, "Motion estimator".
 */
import type { Array as JArray } from "@jax-js/jax";
import { dispose, ref } from "../engine/params.ts";
import type { Cameras } from "./cameraEstimator.ts";
import { runCameraEstimator } from "./cameraEstimator.ts";
import type { ModelConfig } from "./config.ts";
import { runMotionEstimator } from "./motionEstimator.ts";
import { cameraRays, renderFromCameras, takeViews, type RayZerParams } from "./rayzer.ts";
import { rayTokens, runTokenizer } from "./tokens.ts";

export type MotionInputs = {
  /** Image tokens (with positional embedding) of the chosen views [b, r, n, d]. */
  imageTokens: JArray;
  /** Plücker ray tokens of the chosen views' predicted cameras [b, r, n, d]. */
  rayTokens: JArray;
  /** Renders of the targets k … v−1 [b, v − k, 3, h, w] from the predicted cameras (the static renderer's output). */
  renders: JArray;
  cameras: Cameras;
};

/**
 * One pass of the frozen RayZer for stage 2 and for inference. Shapes: b samples, v views, r = `views.length`.
 * Consumes `p` (its motion estimator, if any, is not used) and `images` [b, v, 3, h, w].
 */
export function motionInputs(p: RayZerParams, images: JArray, cfg: ModelConfig, views: readonly number[]): MotionInputs {
  if (p.motion) dispose(p.motion);
  const tokens = runTokenizer(p.tokenizer, images, cfg); // [b, v, n, d]
  const cameras = runCameraEstimator(p.cameraEstimator, tokens.ref, cfg);
  const rays = cameraRays({ c2w: cameras.c2w.ref, fxfycxcy: cameras.fxfycxcy.ref }, cfg.imageSize, cfg.imageSize); // [b, v, 6, h, w]
  const rt = rayTokens(ref(p.renderer.rayTokenizer), takeViews(rays, views), cfg); // [b, r, n, d]
  const imageTokens = takeViews(tokens.ref, views); // [b, r, n, d]
  const renders = renderFromCameras(p, tokens, { c2w: cameras.c2w.ref, fxfycxcy: cameras.fxfycxcy.ref }, cfg); // [b, v − k, 3, h, w]
  return { imageTokens, rayTokens: rt, renders, cameras };
}

/**
 * Motion logits [b, r, h, w] of views whose image tokens, ray tokens and frozen-backbone features
 * `features` [b, r, c, gf, gf] are given. Consumes all arrays.
 */
export function motionLogits(p: NonNullable<RayZerParams["motion"]>, features: JArray, imageTokens: JArray, rays: JArray, cfg: ModelConfig): JArray {
  if (!cfg.motion) throw new Error("motionLogits: the model config has no motion estimator");
  return runMotionEstimator(p, features, imageTokens, rays, cfg.motion);
}
