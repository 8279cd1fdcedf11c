/**
 * The in-memory scene every reader and the synthetic generator produce: frames of one capture at one working
 * size, with optional ground truth (clean static image, motion mask, depth, camera). Images are float32 RGB in
 * [0, 1], planar `[3, h, w]` (channel-major, as the model wants them); masks and depth are `[h, w]`.
 * Cameras follow src/geometry/cameras.ts (OpenCV c2w, fxfycxcy in pixels of this working size).
 */
import type { Camera } from "../geometry/cameras.ts";

export type Frame = {
  /** Stem used for output file names (`00003`, or the input frame's own name). */
  name: string;
  /** Observed image, [3, h, w] in [0, 1]. */
  image: Float32Array;
  /** The same view with the moving objects removed (synthetic scenes only), [3, h, w]. */
  static?: Float32Array;
  /** Ground-truth motion mask, [h, w], 1 where a moving object is visible. */
  mask?: Uint8Array;
  /** Z-depth along the camera's +z axis of the observed surface, [h, w], in scene units. */
  depth?: Float32Array;
  /** Ground-truth camera. Never used by the model or its losses; for evaluation and diagnostics. */
  camera?: Camera;
};

export type Scene = {
  name: string;
  h: number;
  w: number;
  frames: Frame[];
};
