/**
 * The pseudo-motion-mask pipeline (docs/METHOD.md §5) on one sample's target frames, stage by stage, every intermediate kept
 * for `--debug`: dissimilarity maps (features, SSIM, colour residual) pooled to the patch grid → z-scores → fusion →
 * k-means over patch descriptors of all frames → cluster vote → pixel refinement (morphology, small blobs, GrabCut).
 * Works at patch resolution until the last stage. The backbone runs outside (masks/ does not import features/): the
 * caller passes patch features of the real targets and of the static renderings, as host arrays [f, c, gh·gw] (c
 * channels on a gh × gw grid of square patches, gh = h / patch, gw = w / patch; frames need not be square).
 *
 * Two settings: `OFFICIAL_PSEUDO` is docs/METHOD.md §5 as the official code has it (DINOv3-7B at 256²), and `DEFAULT_PSEUDO`
 * is ours, tuned on training-range synthetic scenes at 64² with the bundled MobileNetV2 (RESULTS.md has the
 * ablation on held-out scenes). The differences, each measured: sample-wide z-scores (frames where nothing moves
 * can stay empty); the colour residual fused in beside features and SSIM, both images blurred by σ = 1 px first (a
 * blurry renderer misses texture edges; movers differ in colour); a 7×7 SSIM window (11 is for 256²); k-means on
 * the patches' mean colour (MobileNet's stride-4 features group patches by texture, not by object); a cluster is
 * salient when its mean evidence reaches 1 std in one frame or more, and voted clusters rescue their patches down
 * to 0.5 std while any patch at ≥ 2 std counts on its own.
 */
import { gaussianBlur } from "../engine/blur.ts";
import { ssimDissimilarityMap, blockMean, featureCosineDissimilarity, squaredErrorMap } from "./dissimilarity.ts";
import { fuseDissimilarity, standardise, OFFICIAL_WEIGHTS, type FusionWeights, type Standardise } from "./fuse.ts";
import { kmeans } from "./kmeans.ts";
import { refineMask, OFFICIAL_REFINE, type RefineOptions } from "./refine.ts";
import { combineVote, voteClusters, OFFICIAL_VOTE, type VoteOptions } from "./vote.ts";

export type PseudoMaskOptions = {
  /** Which evidence: fused (the method), or one map alone: features, SSIM or the colour residual (`mse`). */
  evidence: "fused" | "features" | "ssim" | "mse";
  weights: FusionWeights;
  /** z-scores per frame (docs/METHOD.md §5) or over the whole sample (lets a frame with nothing moving stay empty). */
  standardise: Standardise;
  /** Cross-frame voting (else: a patch is dynamic when its z-scored evidence ≥ `zThreshold`). */
  vote: boolean;
  voteOptions: VoteOptions;
  zThreshold: number;
  /** SSIM window (odd); the official 11 is for 256² frames. */
  ssimWindow: number;
  /** Gaussian σ (pixels) applied to both images before the colour residual (0: none); forgives blur and sub-pixel shifts. */
  mseBlur: number;
  clusters: number;
  /**
   * What k-means clusters: unit-normalised patch features (docs/METHOD.md §5, right for DINO) and/or the patch's mean colour,
   * each scaled by its weight.
   */
  descriptor: { features: number; colour: number };
  refine: RefineOptions;
  seed: number;
};

/** docs/METHOD.md §5 as the official code runs it. */
export const OFFICIAL_PSEUDO: PseudoMaskOptions = {
  evidence: "fused",
  weights: OFFICIAL_WEIGHTS,
  standardise: "frame",
  vote: true,
  voteOptions: OFFICIAL_VOTE,
  zThreshold: 1.5, // used only with vote off
  ssimWindow: 11,
  mseBlur: 0,
  clusters: 64,
  descriptor: { features: 1, colour: 0 },
  refine: OFFICIAL_REFINE,
  seed: 42,
};

/** Ours, for small frames and the bundled backbone (header; tuned on training-range seeds 9000–9023 at 64²). */
export const DEFAULT_PSEUDO: PseudoMaskOptions = {
  ...OFFICIAL_PSEUDO,
  weights: { feat: 0.3, ssim: 0.3, mse: 0.4 },
  standardise: "sample",
  voteOptions: { topQuantile: 0.95, frameQuantile: 0.75, minFrames: 1, minMean: 1, combine: "rescue", rescueZ: 0.5 },
  zThreshold: 2,
  ssimWindow: 7,
  mseBlur: 1,
  descriptor: { features: 0, colour: 1 },
};

export type PseudoMaskInput = {
  /** Real target frames and their static renderings, planar [3, h, w] in [0, 1]. */
  targets: Float32Array[];
  renders: Float32Array[];
  h: number;
  w: number;
  /** Patch features [f, c, gh·gw] of the targets and the renderings. */
  featTargets: Float32Array;
  featRenders: Float32Array;
  channels: number;
  /** Patch grid rows gh (h / grid pixels per patch); also its columns unless `gridW` says otherwise. */
  grid: number;
  /** Patch grid columns gw for non-square frames (w / gw = h / gh); default `grid`. */
  gridW?: number;
  /**
   * The frames the pixel stages (morphology, GrabCut) run on, when not the targets at h × w: e.g. the targets at
   * their full size while the patch stages ran at a smaller working size. Masks come out at this size.
   */
  refineAt?: { images: Float32Array[]; h: number; w: number };
};

export type PseudoMaskResult = {
  masks: Uint8Array[];
  stages: {
    /** [f·n] raw maps on the patch grid: feature dissimilarity, SSIM dissimilarity, colour residual. */
    feat: Float32Array;
    ssim: Float32Array;
    mse: Float32Array;
    /** [f·n] standardised fused evidence. */
    evidence: Float32Array;
    /** [f·n] k-means cluster per patch and whether its cluster was voted dynamic (empty without voting). */
    clusters: Int32Array;
    voted: Uint8Array;
    patchMask: Uint8Array;
    upsampled: Uint8Array[];
    morphology: Uint8Array[];
  };
};

/** Runs the pipeline on one sample. */
export async function pseudoMasks(input: PseudoMaskInput, options: Partial<PseudoMaskOptions> = {}): Promise<PseudoMaskResult> {
  const o = { ...DEFAULT_PSEUDO, ...options };
  const { targets, renders, h, w, channels: c, grid: gh } = input;
  const gw = input.gridW ?? gh;
  const f = targets.length;
  const n = gh * gw;
  const s = h / gh;
  if (w / gw !== s || !Number.isInteger(s)) throw new Error(`pseudoMasks: ${w}×${h} frames do not split into a ${gw}×${gh} grid of square patches`);
  // 1. feature dissimilarity 1 − cos per patch
  const feat = featureCosineDissimilarity(input.featTargets, input.featRenders, f, c, n);
  // 2. SSIM dissimilarity and the colour residual pooled to the grid
  const ssim = new Float32Array(f * n);
  const mse = new Float32Array(f * n);
  for (let fr = 0; fr < f; fr++) {
    ssim.set(blockMean(ssimDissimilarityMap(targets[fr]!, renders[fr]!, h, w, o.ssimWindow), h, w, s), fr * n);
    const sq = squaredErrorMap(gaussianBlur(targets[fr]!, 3, h, w, o.mseBlur), gaussianBlur(renders[fr]!, 3, h, w, o.mseBlur), h, w);
    mse.set(blockMean(sq, h, w, s), fr * n);
  }
  // 3. z-scores and fusion (or one kind of evidence alone)
  const evidence =
    o.evidence === "fused"
      ? fuseDissimilarity(feat, ssim, f, o.weights, o.standardise, mse)
      : standardise(o.evidence === "features" ? feat : o.evidence === "ssim" ? ssim : mse, f, o.standardise);
  // 4. cross-frame vote over k-means clusters of the targets' patch descriptors
  let patchMask: Uint8Array;
  let clusters: Int32Array = new Int32Array(0);
  let voted: Uint8Array = new Uint8Array(0);
  if (o.vote) {
    const dims = c + 3;
    const pts = new Float32Array(f * n * dims);
    for (let fr = 0; fr < f; fr++) {
      const colour = [0, 1, 2].map((k) => blockMean(targets[fr]!.subarray(k * h * w, (k + 1) * h * w), h, w, s));
      for (let p = 0; p < n; p++) {
        let norm = 0;
        for (let k = 0; k < c; k++) norm += input.featTargets[(fr * c + k) * n + p]! ** 2;
        norm = Math.sqrt(norm) + 1e-12;
        const row = (fr * n + p) * dims;
        for (let k = 0; k < c; k++) pts[row + k] = (o.descriptor.features * input.featTargets[(fr * c + k) * n + p]!) / norm;
        for (let k = 0; k < 3; k++) pts[row + c + k] = o.descriptor.colour * colour[k]![p]!;
      }
    }
    const { labels } = kmeans(pts, f * n, dims, o.clusters, { seed: o.seed });
    clusters = labels;
    voted = voteClusters(evidence, labels, f, Math.min(o.clusters, f * n), o.voteOptions).mask;
    patchMask = combineVote(voted, evidence, o.zThreshold, o.voteOptions);
  } else {
    patchMask = Uint8Array.from(evidence, (v) => (v >= o.zThreshold ? 1 : 0));
  }
  // 5. pixel refinement per frame
  const masks: Uint8Array[] = [];
  const upsampled: Uint8Array[] = [];
  const morphology: Uint8Array[] = [];
  for (let fr = 0; fr < f; fr++) {
    const at = input.refineAt;
    const r = at
      ? await refineMask(patchMask.subarray(fr * n, (fr + 1) * n), gh, gw, at.images[fr]!, at.h, at.w, o.refine)
      : await refineMask(patchMask.subarray(fr * n, (fr + 1) * n), gh, gw, targets[fr]!, h, w, o.refine);
    masks.push(r.final);
    upsampled.push(r.upsampled);
    morphology.push(r.morphology);
  }
  return { masks, stages: { feat, ssim, mse, evidence, clusters, voted, patchMask, upsampled, morphology } };
}

/** Intersection over union of binary masks (1 when both are empty). */
/** Pixelwise union of two masks of one frame (0/1): the masks of two detectors that miss different things. */
export function unionMask(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error(`unionMask: ${a.length} and ${b.length} pixels`);
  return a.map((v, i) => (v || b[i] ? 1 : 0));
}

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
