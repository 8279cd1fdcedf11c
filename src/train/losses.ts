/**
 * Photometric losses (docs/METHOD.md §4.1). `mse` is the plain mean; `maskedMse` leaves out pixels where `keep` is 0
 * (dynamic pixels, WildRayZer's gated loss) and normalises by the kept count, falling back to the plain mean when
 * fewer than 10% of the pixels are kept (as the official code does). `bceWithLogits` is the motion estimator's
 * distillation loss against pseudo masks, with a per-view keep weight for the rendering-PSNR filter.
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { perceptualDistance } from "../features/perceptual.ts";

/** Mean squared error. Consumes `pred` and `target` (same shape); returns a scalar. */
export function mse(pred: JArray, target: JArray): JArray {
  return np.mean(np.square(pred.sub(target)));
}

/**
 * Σ (pred − target)²·keep / (c·Σ keep), with the plain mean when Σ keep < 10% of the pixels.
 * Consumes `pred`, `target` [..., c, h, w] and `keep` [..., h, w] (1 = static, used).
 */
export function maskedMse(pred: JArray, target: JArray, keep: JArray): JArray {
  const c = pred.shape[pred.ndim - 3]!;
  const sq = np.square(pred.sub(target)); // [..., c, h, w]
  const k = np.expandDims(keep, -3); // [..., 1, h, w]
  const kept = np.sum(k.ref).mul(c);
  const total = sq.size;
  const masked = np.sum(sq.ref.mul(k)).div(np.maximum(kept.ref, 1));
  return np.where(kept.less(0.1 * total), np.mean(sq), masked);
}

/**
 * The stage-1 photometric loss MSE + λ·perceptual (docs/METHOD.md §4: λ = 0.2) on renders and targets [b, t, 3, h, w]
 * (consumed). Without an extractor (λ = 0) it is the MSE alone.
 */
export function photometricLoss(pred: JArray, target: JArray, lambda: number, fx: FeatureExtractor | null): JArray {
  if (lambda === 0 || !fx) return mse(pred, target);
  const [b, t, c, h, w] = pred.shape as [number, number, number, number, number];
  const m = mse(pred.ref, target.ref);
  const p = np.mean(perceptualDistance(fx, pred.reshape([b * t, c, h, w]), target.reshape([b * t, c, h, w])));
  return m.add(p.mul(lambda));
}

/**
 * Binary cross-entropy on logits, `max(x, 0) − x·y + log1p(exp(−|x|))` (= softplus(x) − x·y without overflow
 * for large |x|). Without `keep`: the mean over every pixel. With `keep` [b, v] (per-view weights, 1 = the view
 * enters the loss; `psnrKeep` makes them): the mean over the pixels of the kept views, Σ_v keep_v·mean_v / Σ keep,
 * and 0 when no view is kept. `positiveWeight` p scales the positive term, −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))]
 * (PyTorch's `pos_weight`), computed as (1 − y)·x + (1 + (p − 1)·y)·softplus(−x). Consumes `logits`, `targets`
 * [b, v, h, w] (targets in [0, 1]) and `keep`.
 */
export function bceWithLogits(logits: JArray, targets: JArray, keep?: JArray | null, positiveWeight = 1): JArray {
  let loss: JArray;
  if (positiveWeight === 1) {
    loss = np
      .maximum(logits.ref, 0)
      .sub(logits.ref.mul(targets))
      .add(np.log1p(np.exp(np.abs(logits).mul(-1)))); // [b, v, h, w]
  } else {
    // softplus(−x) = softplus(x) − x, with softplus(x) in the stable form above (its gradient at x = 0 is right)
    const softplusNeg = np.maximum(logits.ref, 0).add(np.log1p(np.exp(np.abs(logits.ref).mul(-1)))).sub(logits.ref);
    const wPos = targets.ref.mul(positiveWeight - 1).add(1); // 1 + (p − 1)·y
    loss = targets.mul(-1).add(1).mul(logits).add(wPos.mul(softplusNeg)); // [b, v, h, w]
  }
  if (!keep) return np.mean(loss);
  const [b, v, h, w] = loss.shape as [number, number, number, number];
  const perView = np.mean(loss.reshape([b, v, h * w]), -1); // [b, v]
  const kept = np.sum(keep.ref); // scalar
  // A safe denominator, not a `where` around the quotient: with nothing kept the numerator is 0 and so is the
  // loss, and no 0/0 reaches the gradient.
  const denom = np.where(kept.ref.greater(0), kept, 1);
  return np.sum(perView.mul(keep)).div(denom);
}

/**
 * The rendering-PSNR filter as keep weights: 1 where a view's PSNR is at least `thresholdDb` (17 dB in the
 * official stage-2 config), else 0. Consumes `psnr` [b, v] (dB); returns [b, v].
 */
export function psnrKeep(psnr: JArray, thresholdDb = 17): JArray {
  return np.where(np.greaterEqual(psnr, thresholdDb), 1, 0).astype(np.float32);
}
