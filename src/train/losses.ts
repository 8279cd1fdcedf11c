/**
 * Photometric losses (docs/METHOD.md §4.1). `mse` is the plain mean; `gatedPhotometricLoss` is stage 3's loss with
 * the dynamic pixels of the targets left out. `bceWithLogits` is the motion estimator's
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
 * WildRayZer's gated photometric loss (docs/METHOD.md §7): the stage-1 loss with
 * the dynamic pixels of the targets left out. `gate` [b, t, h, w] is 1 on static pixels (counted) and 0 on dynamic
 * ones. When fewer than 10 % of the batch's pixels are static, the gate is dropped (every pixel counts) for both
 * terms, as the official code does. Then
 *   MSE  = Σ (pred − target)²·g / (c·Σ g)            (summed over the whole batch)
 *   loss = MSE + λ·mean_images perceptual(pred, target; weight g)   (src/features/perceptual.ts, weighted form)
 * A gated pixel gets no gradient from the MSE; the perceptual term weights each feature position by the gate
 * pooled to its stride, so only its receptive field reaches a gated pixel. Consumes `pred`, `target`
 * [b, t, c, h, w] and `gate`.
 */
export function gatedPhotometricLoss(pred: JArray, target: JArray, gate: JArray, lambda: number, fx: FeatureExtractor | null): JArray {
  const [b, t, c, h, w] = pred.shape as [number, number, number, number, number];
  const fallback = np.sum(gate.ref).less(0.1 * b * t * h * w).astype(np.float32); // scalar: 1 → every pixel counts
  const g = gate.mul(fallback.ref.mul(-1).add(1)).add(fallback); // [b, t, h, w]
  const sq = np.square(pred.ref.sub(target.ref)); // [b, t, c, h, w]
  const mseTerm = np.sum(sq.mul(np.expandDims(g.ref, 2))).div(np.maximum(np.sum(g.ref), 1).mul(c));
  if (lambda === 0 || !fx) {
    pred.dispose();
    target.dispose();
    g.dispose();
    return mseTerm;
  }
  const p = perceptualDistance(fx, pred.reshape([b * t, c, h, w]), target.reshape([b * t, c, h, w]), g.reshape([b * t, 1, h, w]));
  return mseTerm.add(np.mean(p).mul(lambda));
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
