/**
 * Patch features for the pseudo-mask pipeline: one backbone tap of a stack of planar RGB frames, brought to the
 * host. The pipeline (src/masks) does not run the backbone itself; its callers use this.
 */
import { numpy as np } from "@jax-js/jax";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";

/** The feature tap the pipeline uses and its stride (bundled MobileNetV2 stride 4: 16×16 patches at 64²). */
export type MaskTap = { name: string; stride: number };

/** One backbone tap of planar RGB frames [3, h, w], on the host as [f, c, gh·gw]. */
export async function patchFeatures(fx: FeatureExtractor, tap: string, frames: Float32Array[], h: number, w: number): Promise<Float32Array> {
  const x = new Float32Array(frames.length * 3 * h * w);
  frames.forEach((im, j) => x.set(im, j * 3 * h * w));
  return (await fx.extract(np.array(x).reshape([frames.length, 3, h, w]), [tap]).get(tap)!.data()) as Float32Array;
}
