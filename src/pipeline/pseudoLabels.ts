/**
 * The pseudo-label composer, written once: real target frames and their static renderings → patch features of
 * both from the frozen backbone → the pseudo-mask pipeline's input → `pseudoMasks` (src/masks). Used for clip
 * masks, stage-2 training labels, the demo and the mask evaluations. masks/ never runs a backbone; this layer does.
 */
import { numpy as np } from "@jax-js/jax";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { maskIou, pseudoMasks, type PseudoMaskInput, type PseudoMaskOptions, type PseudoMaskResult } from "../masks/pipeline.ts";
import type { MaskTap } from "./maskTap.ts";

export { MASK_TAP, MASK_TAP_CHANNELS, type MaskTap } from "./maskTap.ts";

/** One backbone tap of planar RGB frames [3, h, w], on the host as [f, c, gh·gw]. */
export async function patchFeatures(fx: FeatureExtractor, tap: string, frames: readonly Float32Array[], h: number, w: number): Promise<Float32Array> {
  const x = new Float32Array(frames.length * 3 * h * w);
  frames.forEach((im, j) => x.set(im, j * 3 * h * w));
  return (await fx.extract(np.array(x).reshape([frames.length, 3, h, w]), [tap]).get(tap)!.data()) as Float32Array;
}

/** The pipeline's input for `targets` and their static `renders` (planar [3, h, w]): both through the backbone. */
export async function pseudoMaskInput(fx: FeatureExtractor, tap: MaskTap, targets: Float32Array[], renders: Float32Array[], h: number, w: number): Promise<PseudoMaskInput> {
  if (h % tap.stride !== 0 || w % tap.stride !== 0) throw new Error(`pseudoMaskInput: ${w}×${h} is not a multiple of the feature stride ${tap.stride}`);
  const featTargets = await patchFeatures(fx, tap.name, targets, h, w);
  const featRenders = await patchFeatures(fx, tap.name, renders, h, w);
  const g = h / tap.stride;
  if (w !== h) throw new Error(`pseudoMaskInput: square frames only (got ${w}×${h})`);
  return { targets, renders, h, w, featTargets, featRenders, channels: featTargets.length / (targets.length * g * g), grid: g };
}

/** Pseudo-motion masks of `targets` against their static `renders` (one call of the whole composer). */
export async function pseudoLabels(
  fx: FeatureExtractor,
  tap: MaskTap,
  targets: Float32Array[],
  renders: Float32Array[],
  h: number,
  w: number,
  options?: Partial<PseudoMaskOptions>,
): Promise<PseudoMaskResult> {
  return pseudoMasks(await pseudoMaskInput(fx, tap, targets, renders, h, w), options);
}

/** Mean of per-frame IoUs. */
export function meanIou(masks: readonly Uint8Array[], truth: readonly Uint8Array[]): number {
  return masks.reduce((a, m, j) => a + maskIou(m, truth[j]!), 0) / masks.length;
}
