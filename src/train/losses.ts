/**
 * Photometric losses (SPEC §4.1). `mse` is the plain mean; `maskedMse` leaves out pixels where `keep` is 0
 * (dynamic pixels, WildRayZer's gated loss) and normalises by the kept count, falling back to the plain mean when
 * fewer than 10% of the pixels are kept (as the official code does).
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";

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
