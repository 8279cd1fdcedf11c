/**
 * The pseudo-motion-mask pipeline (SPEC §5) on one sample's target frames, stage by stage, every intermediate kept
 * for `--debug`: feature and SSIM dissimilarity → per-frame z-scores → fusion → k-means over the targets' patch
 * features of all frames → cluster vote → pixel refinement (morphology, small blobs, GrabCut). Works at patch
 * resolution until the last stage. The backbone runs outside (masks/ does not import features/): the caller passes
 * patch features of the real targets and of the static renderings, as host arrays [f, c, g·g] (c channels on a
 * g × g grid, g = h / patch).
 */
import { ssimDissimilarityMap, blockMean } from "./dissimilarity.ts";
import { fuseDissimilarity, zscoreFrames, OFFICIAL_WEIGHTS, type FusionWeights } from "./fuse.ts";
import { kmeans } from "./kmeans.ts";
import { refineMask, OFFICIAL_REFINE, type RefineOptions } from "./refine.ts";
import { voteClusters, OFFICIAL_VOTE, type VoteOptions } from "./vote.ts";

export type PseudoMaskOptions = {
  /** Which evidence: fused (the method), features or SSIM only, or the raw squared error (a baseline). */
  evidence: "fused" | "features" | "ssim" | "mse";
  weights: FusionWeights;
  /** Cross-frame voting (else: a patch is dynamic when its z-scored evidence ≥ `zThreshold`). */
  vote: boolean;
  voteOptions: VoteOptions;
  zThreshold: number;
  clusters: number;
  refine: RefineOptions;
  seed: number;
};

export const DEFAULT_PSEUDO: PseudoMaskOptions = {
  evidence: "fused",
  weights: OFFICIAL_WEIGHTS,
  vote: true,
  voteOptions: OFFICIAL_VOTE,
  zThreshold: 1.5,
  clusters: 64,
  refine: OFFICIAL_REFINE,
  seed: 42,
};

export type PseudoMaskInput = {
  /** Real target frames and their static renderings, planar [3, h, w] in [0, 1]. */
  targets: Float32Array[];
  renders: Float32Array[];
  h: number;
  w: number;
  /** Patch features [f, c, g·g] of the targets and the renderings. */
  featTargets: Float32Array;
  featRenders: Float32Array;
  channels: number;
  grid: number;
};

export type PseudoMaskResult = {
  masks: Uint8Array[];
  stages: {
    feat: Float32Array;
    ssim: Float32Array;
    evidence: Float32Array;
    patchMask: Uint8Array;
    upsampled: Uint8Array[];
    morphology: Uint8Array[];
  };
};

/** Runs the pipeline on one sample. */
export async function pseudoMasks(input: PseudoMaskInput, options: Partial<PseudoMaskOptions> = {}): Promise<PseudoMaskResult> {
  const o = { ...DEFAULT_PSEUDO, ...options };
  const { targets, renders, h, w, channels: c, grid: g } = input;
  const f = targets.length;
  const n = g * g;
  const s = h / g;
  // 1. feature dissimilarity 1 − cos per patch
  const feat = new Float32Array(f * n);
  for (let fr = 0; fr < f; fr++) {
    for (let p = 0; p < n; p++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let k = 0; k < c; k++) {
        const a = input.featTargets[(fr * c + k) * n + p]!;
        const b = input.featRenders[(fr * c + k) * n + p]!;
        dot += a * b;
        na += a * a;
        nb += b * b;
      }
      feat[fr * n + p] = 1 - dot / (Math.sqrt(na * nb) + 1e-12);
    }
  }
  // 2. SSIM dissimilarity (and the MSE baseline) pooled to the grid
  const ssim = new Float32Array(f * n);
  const mse = new Float32Array(f * n);
  for (let fr = 0; fr < f; fr++) {
    ssim.set(blockMean(ssimDissimilarityMap(targets[fr]!, renders[fr]!, h, w), h, w, s), fr * n);
    const sq = new Float32Array(h * w);
    for (let i = 0; i < h * w; i++) for (let k = 0; k < 3; k++) sq[i] = sq[i]! + (targets[fr]![k * h * w + i]! - renders[fr]![k * h * w + i]!) ** 2 / 3;
    mse.set(blockMean(sq, h, w, s), fr * n);
  }
  // 3. z-scores and fusion (or one kind of evidence alone)
  const evidence =
    o.evidence === "fused" ? fuseDissimilarity(feat, ssim, f, o.weights) : zscoreFrames(o.evidence === "features" ? feat : o.evidence === "ssim" ? ssim : mse, f);
  // 4. cross-frame vote over k-means clusters of the targets' normalised patch features
  let patchMask: Uint8Array;
  if (o.vote) {
    const pts = new Float32Array(f * n * c);
    for (let fr = 0; fr < f; fr++) {
      for (let p = 0; p < n; p++) {
        let norm = 0;
        for (let k = 0; k < c; k++) norm += input.featTargets[(fr * c + k) * n + p]! ** 2;
        norm = Math.sqrt(norm) + 1e-12;
        for (let k = 0; k < c; k++) pts[(fr * n + p) * c + k] = input.featTargets[(fr * c + k) * n + p]! / norm;
      }
    }
    const { labels } = kmeans(pts, f * n, c, o.clusters, { seed: o.seed });
    patchMask = voteClusters(evidence, labels, f, Math.min(o.clusters, f * n), o.voteOptions).mask;
  } else {
    patchMask = Uint8Array.from(evidence, (v) => (v >= o.zThreshold ? 1 : 0));
  }
  // 5. pixel refinement per frame
  const masks: Uint8Array[] = [];
  const upsampled: Uint8Array[] = [];
  const morphology: Uint8Array[] = [];
  for (let fr = 0; fr < f; fr++) {
    const r = await refineMask(patchMask.subarray(fr * n, (fr + 1) * n), g, g, targets[fr]!, h, w, o.refine);
    masks.push(r.final);
    upsampled.push(r.upsampled);
    morphology.push(r.morphology);
  }
  return { masks, stages: { feat, ssim, evidence, patchMask, upsampled, morphology } };
}

/** Intersection over union of binary masks (1 when both are empty). */
export function maskIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let uni = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! > 0 ? 1 : 0;
    const y = b[i]! > 0 ? 1 : 0;
    inter += x & y;
    uni += x | y;
  }
  return uni === 0 ? 1 : inter / uni;
}
