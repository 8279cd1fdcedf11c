/**
 * The perceptual distance on the bundled backbone (LPIPS's recipe without learned per-channel weights, which need
 * LPIPS's own weights; `--lpips` takes those when a user has them): features at three depths of the frozen
 * MobileNetV2 (strides 4, 8, 16; 24, 32 and 64 channels), each unit-normalised over channels at every position,
 * squared differences summed over channels, averaged over positions, then averaged over the three depths:
 *   d(x, y) = 1/L Σ_l mean_{h,w} ‖ f̂_l(x) − f̂_l(y) ‖²,   f̂ = f / (‖f‖₂ + 1e-10)
 * 0 for identical images, at most 4 per layer. Differentiable (the training loss) and maskable: with a weight map
 * (1 = count this pixel), each layer's positions are weighted by the map average-pooled to that layer's stride.
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { MOBILENET_TAPS, type FeatureExtractor } from "./mobilenetV2.ts";

export const PERCEPTUAL_TAPS: { tap: string; stride: number }[] = [
  { tap: MOBILENET_TAPS.stride4, stride: 4 },
  { tap: MOBILENET_TAPS.stride8, stride: 8 },
  { tap: MOBILENET_TAPS.stride16, stride: 16 },
];

function unitNormalize(f: JArray): JArray {
  const norm = np.sqrt(np.sum(np.square(f.ref), 1, { keepdims: true }).add(1e-20)).add(1e-10); // [b, 1, h, w]; +1e-20 keeps the gradient finite at an all-zero vector
  return f.div(norm);
}

/**
 * Per-image perceptual distances [b]. Consumes `x`, `y` [b, 3, h, w] in [0, 1] (h, w multiples of 16) and
 * `weight` ([b, 1, h, w] or null: all pixels). Does not consume the extractor.
 */
export function perceptualDistance(fx: FeatureExtractor, x: JArray, y: JArray, weight: JArray | null = null): JArray {
  const [b, , h, w] = x.shape as [number, number, number, number];
  const taps = PERCEPTUAL_TAPS.map((t) => t.tap);
  const both = fx.extract(np.concatenate([x, y], 0), taps); // one pass for both images
  let total: JArray | null = null;
  for (const { tap, stride } of PERCEPTUAL_TAPS) {
    const f = both.get(tap)!; // [2b, c, h/s, w/s]
    const fxN = unitNormalize(f.ref.slice([0, b]));
    const fyN = unitNormalize(f.slice([b, 2 * b]));
    const d = np.sum(np.square(fxN.sub(fyN)), 1); // [b, h/s, w/s]
    let layer: JArray;
    if (weight) {
      const gh = h / stride;
      const gw = w / stride;
      const pooled = np.mean(weight.ref.reshape([b, gh, stride, gw, stride]), [2, 4]); // [b, h/s, w/s]
      layer = np.sum(d.mul(pooled.ref), [1, 2]).div(np.sum(pooled, [1, 2]).add(1e-12));
    } else {
      layer = np.mean(d, [1, 2]); // [b]
    }
    total = total ? total.add(layer) : layer;
  }
  weight?.dispose();
  return total!.div(PERCEPTUAL_TAPS.length);
}
