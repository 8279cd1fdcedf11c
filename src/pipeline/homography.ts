/**
 * Camera compensation between two frames of a clip by a plane-induced homography (OpenCV.js): ORB keypoints on the
 * grey frames, brute-force Hamming matches kept by Lowe's ratio test, then RANSAC (`findHomography`). A homography
 * is exact for a camera that only rotates (pans, tilts, zooms) and for a distant or planar background; under
 * parallax it fits the dominant plane, and what it cannot explain is left for the robust combination (median) or
 * the pseudo-mask pipeline to judge. `warpToTarget` resamples a frame into a target's pixel grid (bilinear) and
 * says which target pixels it covered.
 *
 * Coordinates follow OpenCV: pixel (x, y) has its centre at (x, y), so sampling at an integer position returns that
 * pixel; both frames use the same convention, so H is exact in either.
 */
import { loadOpenCv } from "../masks/refine.ts";

/** A 3×3 homography, row-major: maps target pixel (x, y, 1) to the source frame's (up to scale). */
export type Homography = Float64Array;

export type HomographyOptions = {
  /**
   * Dense refinement by ECC (enhanced correlation coefficient, `findTransformECC`) on an image pyramid: `always`
   * (after ORB, or from the caller's guess when ORB fails), `fallback` (only when ORB finds no homography: smooth
   * frames with few corners), or `off`.
   */
  ecc: "always" | "fallback" | "off";
  /** ECC: coarsest pyramid level's long side (px) and iterations per level. */
  eccCoarsePx: number;
  eccIters: number;
  /** ECC: a correlation below this is a failure. */
  eccMinCorrelation: number;
  /** ORB keypoints per frame. */
  features: number;
  /** Lowe's ratio test: keep a match when its distance is below `ratio` × the second best. */
  ratio: number;
  /** RANSAC reprojection threshold, in pixels of the frames given. */
  ransacPx: number;
  /** Fewer RANSAC inliers than this: no homography (the frames are too different). */
  minInliers: number;
};

export const DEFAULT_HOMOGRAPHY: HomographyOptions = { ecc: "fallback", eccCoarsePx: 32, eccIters: 40, eccMinCorrelation: 0.8, features: 2000, ratio: 0.8, ransacPx: 3, minInliers: 15 };

/** Luma (BT.601) of planar RGB [3, h, w] in [0, 1], as uint8 [h, w]. */
export function toGrey(img: Float32Array, h: number, w: number): Uint8Array {
  const n = h * w;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(Math.min(1, Math.max(0, 0.299 * img[i]! + 0.587 * img[n + i]! + 0.114 * img[2 * n + i]!)) * 255);
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CV = any;
/** ORB keypoints and descriptors of a grey frame; the caller deletes `kp` and `desc`. */
function orb(cv: CV, grey: Uint8Array, h: number, w: number, n: number): { kp: CV; desc: CV } {
  const mat = cv.matFromArray(h, w, cv.CV_8UC1, grey);
  const detector = new cv.ORB(n);
  const kp = new cv.KeyPointVector();
  const desc = new cv.Mat();
  const none = new cv.Mat();
  try {
    detector.detectAndCompute(mat, none, kp, desc);
  } finally {
    mat.delete();
    none.delete();
    detector.delete();
  }
  return { kp, desc };
}

/** A grey frame with its keypoints and descriptors, computed once and reused for every pair it is in. */
export type FrameFeatures = { grey: Uint8Array; h: number; w: number; kp: CV; desc: CV; count: number };

/** ORB features of a grey frame. Free with `freeFeatures`. */
export async function frameFeatures(grey: Uint8Array, h: number, w: number, opts: HomographyOptions = DEFAULT_HOMOGRAPHY): Promise<FrameFeatures> {
  const { cv } = await loadOpenCv();
  const { kp, desc } = orb(cv, grey, h, w, opts.features);
  return { grey, h, w, kp, desc, count: kp.size() };
}

/**
 * The homography target → source: ORB + RANSAC, then ECC as `opts.ecc` says (from the ORB estimate, else from
 * `guess`, else the identity). Null when neither finds one.
 */
export async function alignFrames(target: FrameFeatures, source: FrameFeatures, opts: HomographyOptions = DEFAULT_HOMOGRAPHY, guess: ArrayLike<number> | null = null): Promise<Homography | null> {
  const orbH = await estimateHomography(target, source, opts);
  if (opts.ecc === "off" || (opts.ecc === "fallback" && orbH)) return orbH?.H ?? null;
  const ecc = await refineEcc(target.grey, source.grey, target.h, target.w, orbH?.H ?? guess, opts);
  return ecc?.H ?? orbH?.H ?? null;
}

export function freeFeatures(f: FrameFeatures): void {
  f.kp.delete();
  f.desc.delete();
}

/**
 * The homography mapping `target` pixels to `source` pixels, from their ORB features, or null when there are too
 * few consistent matches. Also the RANSAC inlier count.
 */
export async function estimateHomography(target: FrameFeatures, source: FrameFeatures, opts: HomographyOptions = DEFAULT_HOMOGRAPHY): Promise<{ H: Homography; inliers: number } | null> {
  if (target.count < 8 || source.count < 8) return null;
  const { cv } = await loadOpenCv();
  const matcher = new cv.BFMatcher(cv.NORM_HAMMING, false);
  const knn = new cv.DMatchVectorVector();
  const mats: CV[] = [];
  try {
    matcher.knnMatch(target.desc, source.desc, knn, 2);
    const tp: number[] = [];
    const sp: number[] = [];
    for (let i = 0; i < knn.size(); i++) {
      const pair = knn.get(i);
      if (pair.size() < 2) continue;
      const a = pair.get(0);
      const b = pair.get(1);
      if (a.distance >= opts.ratio * b.distance) continue;
      const pt = target.kp.get(a.queryIdx).pt;
      const ps = source.kp.get(a.trainIdx).pt;
      tp.push(pt.x, pt.y);
      sp.push(ps.x, ps.y);
    }
    if (tp.length / 2 < opts.minInliers) return null;
    const src = cv.matFromArray(tp.length / 2, 1, cv.CV_32FC2, tp);
    const dst = cv.matFromArray(sp.length / 2, 1, cv.CV_32FC2, sp);
    const inlierMask = new cv.Mat();
    mats.push(src, dst, inlierMask);
    cv.setRNGSeed(0); // RANSAC draws from OpenCV's global RNG: same frames, same homography
    const Hm = cv.findHomography(src, dst, cv.RANSAC, opts.ransacPx, inlierMask, 2000, 0.995);
    mats.push(Hm);
    if (Hm.empty() || Hm.rows !== 3) return null;
    const inliers = (inlierMask.data as Uint8Array).reduce((s, v) => s + (v ? 1 : 0), 0);
    if (inliers < opts.minInliers) return null;
    const H = Float64Array.from(Hm.data64F as Float64Array);
    return H.every(Number.isFinite) ? { H, inliers } : null;
  } finally {
    for (const m of mats) m.delete();
    knn.delete();
    matcher.delete();
  }
}

/**
 * `source` (planar [3, h, w]) resampled into the target's pixel grid through `H` (target → source), bilinear.
 * Returns the warped image and which target pixels fell inside the source frame (1) — at most half a pixel
 * outside its outermost pixel centres, borders clamped there.
 */
export function warpToTarget(source: Float32Array, H: Homography, h: number, w: number): { image: Float32Array; covered: Uint8Array } {
  const n = h * w;
  const image = new Float32Array(3 * n);
  const covered = new Uint8Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = H[6]! * x + H[7]! * y + H[8]!;
      if (!(d > 1e-9)) continue;
      const sx = (H[0]! * x + H[1]! * y + H[2]!) / d;
      const sy = (H[3]! * x + H[4]! * y + H[5]!) / d;
      if (!(sx >= -0.5 && sx <= w - 0.5 && sy >= -0.5 && sy <= h - 0.5)) continue;
      const cx = Math.min(w - 1, Math.max(0, sx));
      const cy = Math.min(h - 1, Math.max(0, sy));
      const x0 = Math.min(w - 2, Math.floor(cx));
      const y0 = Math.min(h - 2, Math.floor(cy));
      const fx = cx - x0;
      const fy = cy - y0;
      const i00 = y0 * w + x0;
      const o = y * w + x;
      covered[o] = 1;
      for (let c = 0; c < 3; c++) {
        const b = c * n + i00;
        image[c * n + o] = (1 - fy) * ((1 - fx) * source[b]! + fx * source[b + 1]!) + fy * ((1 - fx) * source[b + w]! + fx * source[b + w + 1]!);
      }
    }
  }
  return { image, covered };
}

/** Product a · b of 3×3 row-major matrices. */
export function mul3(a: ArrayLike<number>, b: ArrayLike<number>): Homography {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
  return out;
}

/** H at a pyramid level `f` times finer (pixel centres at integers: x_fine = f·x + (f − 1)/2). */
function rescale(H: ArrayLike<number>, f: number): Homography {
  const o = (f - 1) / 2;
  const S = [f, 0, o, 0, f, o, 0, 0, 1];
  const Si = [1 / f, 0, -o / f, 0, 1 / f, -o / f, 0, 0, 1];
  const out = mul3(mul3(S, H), Si);
  const d = out[8]!;
  return out.map((v) => v / d);
}

/**
 * The translation target → source that best matches the target's central half (normalised cross-correlation) in
 * `source`: [dx, dy] in pixels of these (coarse) images, or null when the images are too small.
 */
function coarseShift(cv: CV, target: CV, source: CV, mats: CV[]): [number, number] | null {
  const [h, w] = [target.rows as number, target.cols as number];
  const [th, tw] = [Math.floor(h / 2), Math.floor(w / 2)];
  if (th < 4 || tw < 4) return null;
  const [y0, x0] = [Math.floor((h - th) / 2), Math.floor((w - tw) / 2)];
  const tpl = target.roi(new cv.Rect(x0, y0, tw, th));
  const res = new cv.Mat();
  mats.push(tpl, res);
  cv.matchTemplate(source, tpl, res, cv.TM_CCOEFF_NORMED);
  const m = cv.minMaxLoc(res);
  return [m.maxLoc.x - x0, m.maxLoc.y - y0];
}

/**
 * ECC alignment of grey frames (uint8 [h, w]) on an image pyramid, from `H0` (target → source; identity when
 * null): returns the refined homography and the final correlation, or null when ECC fails or correlates below
 * `opts.eccMinCorrelation`.
 */
export async function refineEcc(target: Uint8Array, source: Uint8Array, h: number, w: number, H0: ArrayLike<number> | null, opts: HomographyOptions = DEFAULT_HOMOGRAPHY): Promise<{ H: Homography; correlation: number } | null> {
  const { cv } = await loadOpenCv();
  let levels = 0;
  while (Math.max(h, w) / 2 ** (levels + 1) >= opts.eccCoarsePx) levels++;
  const mats: CV[] = [];
  try {
    const pyr: [CV, CV][] = [[cv.matFromArray(h, w, cv.CV_8UC1, target), cv.matFromArray(h, w, cv.CV_8UC1, source)]];
    mats.push(...pyr[0]!);
    for (let l = 1; l <= levels; l++) {
      const [a, b] = [new cv.Mat(), new cv.Mat()];
      mats.push(a, b);
      cv.pyrDown(pyr[l - 1]![0], a);
      cv.pyrDown(pyr[l - 1]![1], b);
      pyr.push([a, b]);
    }
    const crit = new cv.TermCriteria(cv.TermCriteria_COUNT + cv.TermCriteria_EPS, opts.eccIters, 1e-5);
    const none = new cv.Mat();
    mats.push(none);
    const run = (start: ArrayLike<number>): { H: Homography; correlation: number } | null => {
      let H: Homography = rescale(start, 2 ** -levels);
      let correlation = 0;
      for (let l = levels; l >= 0; l--) {
        const W = cv.matFromArray(3, 3, cv.CV_32F, Array.from(H));
        mats.push(W);
        try {
          correlation = cv.findTransformECC(pyr[l]![0], pyr[l]![1], W, cv.MOTION_HOMOGRAPHY, crit, none, 3);
        } catch {
          return null; // ECC did not converge (e.g. a flat image, or a start too far off)
        }
        H = Float64Array.from(W.data32F as Float32Array);
        if (l > 0) H = rescale(H, 2);
      }
      return correlation >= opts.eccMinCorrelation && H.every(Number.isFinite) ? { H, correlation } : null;
    };
    // starts: the caller's guess, the identity, and the best translation found by template matching at the
    // coarsest level (a wide search, for shifts ECC alone would not reach)
    const starts: ArrayLike<number>[] = [...(H0 ? [H0] : []), [1, 0, 0, 0, 1, 0, 0, 0, 1]];
    const shift = coarseShift(cv, pyr[levels]![0], pyr[levels]![1], mats);
    if (shift) starts.push(rescale([1, 0, shift[0], 0, 1, shift[1], 0, 0, 1], 2 ** levels));
    let best: { H: Homography; correlation: number } | null = null;
    for (const st of starts) {
      const r = run(st);
      if (r && (!best || r.correlation > best.correlation)) best = r;
      if (best && best.correlation > 0.98) break;
    }
    return best;
  } finally {
    for (const m of mats) m.delete();
  }
}
