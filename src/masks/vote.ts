/**
 * Pseudo-mask stages 7–9 (docs/METHOD.md §5): cross-frame voting. Patches of all frames of a sample are clustered on their
 * features (k-means); a cluster is dynamic iff it is among the most salient overall — its mean fused
 * dissimilarity `avg_k` is at least the `topQuantile` quantile of all clusters' means — AND it is salient in enough
 * frames: its per-frame (lower) median dissimilarity reaches the `frameQuantile` quantile of all values in at least
 * `minFrames` frames. A patch is dynamic iff its cluster is. A one-frame blip fails the consistency rule.
 */

export type VoteOptions = {
  topQuantile: number;
  frameQuantile: number;
  minFrames: number;
  /** Instead of the rank rule, a cluster is salient when its mean evidence reaches this (z units); null: rank rule. */
  minMean?: number | null;
  /**
   * How the pipeline turns voted clusters into the patch mask: `cluster` (docs/METHOD.md §5: a patch is dynamic iff its
   * cluster is), `gate` (… and its own evidence reaches the z threshold), `rescue` (a patch is dynamic when its
   * evidence reaches the z threshold on its own, or reaches `rescueZ` and its cluster was voted dynamic).
   */
  combine?: "cluster" | "gate" | "rescue";
  rescueZ?: number;
};
/** docs/METHOD.md §5 numbers: top 5 % of clusters, frame saliency at the 0.75 quantile, in ≥ 4 of 6 frames. */
export const OFFICIAL_VOTE: VoteOptions = { topQuantile: 0.95, frameQuantile: 0.75, minFrames: 4, minMean: null, combine: "cluster" };

/** Linear-interpolation quantile (numpy's default) of `xs`. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(xs).sort();
  if (s.length === 0) return Number.NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (pos - lo) * (s[hi]! - s[lo]!);
}

/**
 * `fused` [frames·n] fused dissimilarity per patch; `labels` [frames·n] cluster per patch (k clusters).
 * Returns the dynamic-patch mask [frames·n] (1 = dynamic) and which clusters were voted dynamic.
 */
export function voteClusters(fused: Float32Array, labels: Int32Array, frames: number, k: number, opts: VoteOptions = OFFICIAL_VOTE): { mask: Uint8Array; dynamic: boolean[] } {
  const n = fused.length / frames;
  const sum = new Float64Array(k);
  const count = new Int32Array(k);
  const perFrame: number[][][] = Array.from({ length: k }, () => Array.from({ length: frames }, () => []));
  for (let i = 0; i < fused.length; i++) {
    const c = labels[i]!;
    sum[c] = sum[c]! + fused[i]!;
    count[c]!++;
    perFrame[c]![Math.floor(i / n)]!.push(fused[i]!);
  }
  const avg = Array.from(sum, (s, c) => (count[c]! > 0 ? s / count[c]! : 0));
  const rankThr = opts.minMean ?? quantile(avg, opts.topQuantile);
  const frameThr = quantile(fused, opts.frameQuantile);
  const lowerMedian = (xs: number[]) => {
    if (xs.length === 0) return 0;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)]!;
  };
  const dynamic = avg.map((a, c) => a >= rankThr && perFrame[c]!.filter((xs) => lowerMedian(xs) >= frameThr).length >= opts.minFrames);
  const mask = Uint8Array.from(labels, (c) => (dynamic[c] ? 1 : 0));
  return { mask, dynamic };
}

/**
 * The patch mask from the voted-cluster mask `voted` and the evidence (both [frames·n]) as `opts.combine` says
 * (VoteOptions): `cluster` = voted; `gate` = voted and evidence ≥ z; `rescue` = evidence ≥ z, or voted and
 * evidence ≥ rescueZ.
 */
export function combineVote(voted: Uint8Array, evidence: Float32Array, z: number, opts: VoteOptions): Uint8Array {
  const combine = opts.combine ?? "cluster";
  const low = opts.rescueZ ?? z;
  return voted.map((v, i) => {
    const e = evidence[i]!;
    if (combine === "cluster") return v;
    if (combine === "gate") return v && e >= z ? 1 : 0;
    return e >= z || (v && e >= low) ? 1 : 0;
  });
}
