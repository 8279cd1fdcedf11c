/**
 * Masked tokens (docs/METHOD.md §7): a per-pixel dynamic map of each input view
 * (the motion estimator's probabilities, or a binary mask: copy-paste, ground truth) is average-pooled over each
 * token's patch — the fraction of the patch that moves — and a token whose fraction exceeds the threshold is
 * dynamic. The result is the scene encoder's keep-mask (1 = static token kept, 0 = replaced by zeros or the learned
 * noise token; src/model/sceneEncoder.ts). Host arrays in and out: the mask is detached by construction.
 */

/** The official threshold on the pooled fraction: a token is dynamic when more than 10 % of its patch moves. */
export const TOKEN_MASK_THRESHOLD = 0.1;

/**
 * Keep-mask [m, n] (n = (h / patch)² tokens per view, row-major over the patch grid, as the tokenizer orders them)
 * of `m` views' dynamic maps `dynamic` [m, h, w] in [0, 1]: 0 where the patch mean exceeds `threshold`.
 */
export function tokenKeep(dynamic: ArrayLike<number>, m: number, h: number, w: number, patch: number, threshold = TOKEN_MASK_THRESHOLD): Float32Array {
  if (h % patch !== 0 || w % patch !== 0) throw new Error(`tokenKeep: ${h}×${w} is not a multiple of the patch ${patch}`);
  if (dynamic.length !== m * h * w) throw new Error(`tokenKeep: ${dynamic.length} values for ${m} views of ${h}×${w}`);
  const gh = h / patch;
  const gw = w / patch;
  const keep = new Float32Array(m * gh * gw);
  const area = patch * patch;
  for (let v = 0; v < m; v++) {
    for (let r = 0; r < gh; r++) {
      for (let c = 0; c < gw; c++) {
        let s = 0;
        for (let y = r * patch; y < (r + 1) * patch; y++) {
          const row = (v * h + y) * w;
          for (let x = c * patch; x < (c + 1) * patch; x++) s += dynamic[row + x]!;
        }
        keep[(v * gh + r) * gw + c] = s / area > threshold ? 0 : 1;
      }
    }
  }
  return keep;
}

/** Element-wise max of dynamic maps of equal length (e.g. the estimator's probabilities ∪ the copy-paste masks). */
export function unionMaps(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  if (a.length !== b.length) throw new Error(`unionMaps: ${a.length} vs ${b.length} values`);
  return Float32Array.from({ length: a.length }, (_, i) => Math.max(a[i]!, b[i]!));
}
