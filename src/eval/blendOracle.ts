/**
 * Blend ceilings for the stage-1 evaluation: how far can a renderer get on a held-out sample *without* any
 * geometry, only by mixing its two input frames? Three references, all using ground truth a model never sees:
 *  - `crossFade`: (1 − τ)·A + τ·B with the target's true time τ in the gap (what a renderer that knew the frame
 *    time but nothing about 3D would output);
 *  - `bestGlobalAlpha`: the best single mix weight α ∈ [0, 1] for this target, in closed form
 *    α* = ⟨b − a, t − a⟩ / ‖b − a‖² clipped to [0, 1] (an upper bound for every image-wide blend);
 *  - `bestPerPixel`: per pixel the input closer to the target (an upper bound for any per-pixel selection; not
 *    reachable without the target).
 * A renderer beating `bestGlobalAlpha` must move content, i.e. use the cameras (RESULTS.md, "blend ceilings").
 */
import { psnrHost } from "./metrics.ts";

export type BlendCeilings = { nearestInput: number; meanOfInputs: number; crossFade: number; bestGlobalAlpha: number; bestPerPixel: number };

/** `(1 − α)·a + α·b`, elementwise. */
export function mixImages(a: ArrayLike<number>, b: ArrayLike<number>, alpha: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - alpha) * a[i]! + alpha * b[i]!;
  return out;
}

/**
 * PSNR (dB, images in [0, 1]) of each reference for one target. `tau` ∈ [0, 1]: the target's position between
 * input A (0) and input B (1).
 */
export function blendCeilings(a: ArrayLike<number>, b: ArrayLike<number>, target: ArrayLike<number>, tau: number): BlendCeilings {
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b[i]! - a[i]!;
    dot += d * (target[i]! - a[i]!);
    norm += d * d;
  }
  const alpha = norm > 0 ? Math.min(1, Math.max(0, dot / norm)) : 0;
  const perPixel = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) perPixel[i] = Math.abs(a[i]! - target[i]!) <= Math.abs(b[i]! - target[i]!) ? a[i]! : b[i]!;
  return {
    nearestInput: psnrHost(tau <= 0.5 ? a : b, target),
    meanOfInputs: psnrHost(mixImages(a, b, 0.5), target),
    crossFade: psnrHost(mixImages(a, b, tau), target),
    bestGlobalAlpha: psnrHost(mixImages(a, b, alpha), target),
    bestPerPixel: psnrHost(perPixel, target),
  };
}
