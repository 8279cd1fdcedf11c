/**
 * Pseudo-mask stages 4–5 (docs/METHOD.md §5): z-score each frame's dissimilarity map over its patch grid, then fuse the
 * feature and SSIM maps with weights that sum to 1.
 *   Z(x) = (x − mean) / (std + 1e-8), std with Bessel's correction (n − 1), per frame
 *   D = w_feat · Z(D_feat) + w_ssim · Z(D_ssim)
 * The official model uses constant weights 0.6 / 0.4 (features / SSIM). `fusionWeights` also offers the schedule
 * the paper describes, moving weight from features to SSIM as the renderer gets better (keyed to its PSNR).
 */

/** Per-frame z-scores of `maps` (`frames` maps of `n` values each, concatenated). */
export function zscoreFrames(maps: Float32Array, frames: number): Float32Array {
  const n = maps.length / frames;
  if (!Number.isInteger(n) || n < 2) throw new Error(`zscoreFrames: ${maps.length} values do not split into ${frames} maps of ≥ 2`);
  const out = new Float32Array(maps.length);
  for (let f = 0; f < frames; f++) {
    const m = maps.subarray(f * n, (f + 1) * n);
    let mean = 0;
    for (const v of m) mean += v;
    mean /= n;
    let ss = 0;
    for (const v of m) ss += (v - mean) ** 2;
    const std = Math.sqrt(ss / (n - 1));
    for (let i = 0; i < n; i++) out[f * n + i] = (m[i]! - mean) / (std + 1e-8);
  }
  return out;
}

/**
 * How dissimilarity maps are standardised before fusion: per frame (docs/METHOD.md §5), or over all frames of the sample at
 * once. Per-frame z-scores always find something in every frame (the top of any map is ≥ 1 std above its mean), so a
 * frame where nothing moves still gets a mask; sample-wide statistics let such a frame stay empty. (Measured and
 * dropped: median/MAD and sigma-clipped sample statistics; they describe the static patches so tightly that texture
 * edges a blurry renderer misses stand out as much as movers.)
 */
export type Standardise = "frame" | "sample";

/** Standardises `maps` (`frames` maps concatenated) as `how` says. */
export function standardise(maps: Float32Array, frames: number, how: Standardise): Float32Array {
  return zscoreFrames(maps, how === "frame" ? frames : 1);
}

/**
 * Fusion weights; they sum to 1. `mse` (the colour residual, block-averaged squared error) is our addition for small
 * frames and weak backbones, 0 in the official setting.
 */
export type FusionWeights = { feat: number; ssim: number; mse?: number };

/** The official constant weights (docs/METHOD.md §5: wildrayzer_stage2_motion_mask.yaml). */
export const OFFICIAL_WEIGHTS: FusionWeights = { feat: 0.6, ssim: 0.4 };

/**
 * Weights that move from features to SSIM as rendering improves: below `lo` dB all on features (a blurry render
 * makes SSIM flag everything), above `hi` dB the official 0.6/0.4 split reversed toward SSIM (0.3/0.7), linear in
 * between. `psnr` is the renderer's PSNR on the frame's static pixels (or its mean over the batch).
 */
export function fusionWeights(psnr: number, lo = 18, hi = 28): FusionWeights {
  const t = Math.min(1, Math.max(0, (psnr - lo) / (hi - lo)));
  const ssim = 0.7 * t;
  return { feat: 1 - ssim, ssim };
}

/** D = w_feat·Z(feat) + w_ssim·Z(ssim) [+ w_mse·Z(mse)], Z as `how` says (per frame in docs/METHOD.md §5). */
export function fuseDissimilarity(
  feat: Float32Array,
  ssim: Float32Array,
  frames: number,
  w: FusionWeights = OFFICIAL_WEIGHTS,
  how: Standardise = "frame",
  mse?: Float32Array,
): Float32Array {
  if (feat.length !== ssim.length || (mse && mse.length !== feat.length)) throw new Error(`fuseDissimilarity: maps differ in size (${feat.length}, ${ssim.length}, ${mse?.length ?? "-"})`);
  const wm = w.mse ?? 0;
  if (Math.abs(w.feat + w.ssim + wm - 1) > 1e-9) throw new Error(`fuseDissimilarity: weights must sum to 1, got ${w.feat} + ${w.ssim} + ${wm}`);
  if (wm > 0 && !mse) throw new Error("fuseDissimilarity: an mse weight needs the mse map");
  const zf = standardise(feat, frames, how);
  const zs = standardise(ssim, frames, how);
  const zm = wm > 0 ? standardise(mse!, frames, how) : null;
  return zf.map((v, i) => w.feat * v + w.ssim * zs[i]! + (zm ? wm * zm[i]! : 0));
}
