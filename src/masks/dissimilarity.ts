/**
 * Pseudo-mask stages 1–3 (docs/METHOD.md §5): how differently a static rendering Î shows a target frame I.
 * - Feature dissimilarity on the patch grid: D_feat(p) = 1 − cos(φ_p(I), φ_p(Î)) from any backbone's patch tap.
 * - SSIM dissimilarity as the official code computes it: both images quantised to uint8 (truncating x·255), a
 *   uniform 11×11 window with reflected borders, K1 = 0.01, K2 = 0.03, data range 255, covariances normalised by
 *   N − 1 (scikit-image's defaults), averaged over channels; D_ssim = 1 − SSIM on the full map, then block-averaged
 *   to the patch grid.
 */
import { separableFilter } from "../engine/blur.ts";

/**
 * 1 − cos per patch of two feature maps on the host (the caller runs the backbone: masks/ sits beside features/
 * and does not import it): `fa`, `fb` are [f, c, n] (n patches per frame); returns [f, n].
 */
export function featureCosineDissimilarity(fa: ArrayLike<number>, fb: ArrayLike<number>, f: number, c: number, n: number): Float32Array {
  const out = new Float32Array(f * n);
  for (let fr = 0; fr < f; fr++) {
    for (let p = 0; p < n; p++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let k = 0; k < c; k++) {
        const a = fa[(fr * c + k) * n + p]!;
        const b = fb[(fr * c + k) * n + p]!;
        dot += a * b;
        na += a * a;
        nb += b * b;
      }
      out[fr * n + p] = 1 - dot / (Math.sqrt(na * nb) + 1e-12);
    }
  }
  return out;
}

/** SSIM dissimilarity 1 − SSIM per pixel, the official pseudo-mask variant (header); planar [3, h, w] in [0, 1]. */
export function ssimDissimilarityMap(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, win = 11): Float64Array {
  if (win < 3 || win % 2 !== 1) throw new Error(`ssimDissimilarityMap: window ${win} must be odd and ≥ 3`);
  const n = h * w;
  const q = (v: number) => Math.floor(Math.min(1, Math.max(0, v)) * 255); // truncating uint8 cast
  const np_ = win * win;
  const cov = np_ / (np_ - 1); // sample covariance
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  // the uniform window as scipy's uniform_filter runs it: running sums divided by the length, edges mirrored with
  // the edge repeated ("symmetric")
  const ones = new Float64Array(win).fill(1);
  const box = (src: Float64Array) => separableFilter(src, h, w, ones, "symmetric", win).data;
  const d = new Float64Array(n);
  for (let c = 0; c < 3; c++) {
    const x = Float64Array.from({ length: n }, (_, i) => q(a[c * n + i]!));
    const y = Float64Array.from({ length: n }, (_, i) => q(b[c * n + i]!));
    const ux = box(x);
    const uy = box(y);
    const uxx = box(x.map((v) => v * v));
    const uyy = box(y.map((v) => v * v));
    const uxy = box(x.map((v, i) => v * y[i]!));
    for (let i = 0; i < n; i++) {
      const vx = cov * (uxx[i]! - ux[i]! * ux[i]!);
      const vy = cov * (uyy[i]! - uy[i]! * uy[i]!);
      const vxy = cov * (uxy[i]! - ux[i]! * uy[i]!);
      const s = ((2 * ux[i]! * uy[i]! + C1) * (2 * vxy + C2)) / ((ux[i]! ** 2 + uy[i]! ** 2 + C1) * (vx + vy + C2));
      d[i] = d[i]! + (1 - s) / 3;
    }
  }
  return d;
}

/** Squared colour error per pixel (mean over the 3 channels) of planar RGB [3, h, w] images. */
export function squaredErrorMap(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number): Float32Array {
  const n = h * w;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((a[i]! - b[i]!) ** 2 + (a[n + i]! - b[n + i]!) ** 2 + (a[2 * n + i]! - b[2 * n + i]!) ** 2) / 3;
  return out;
}

/** Block mean of an [h, w] map down to [h/s, w/s] (s divides both). */
export function blockMean(map: ArrayLike<number>, h: number, w: number, s: number): Float32Array {
  const gh = h / s;
  const gw = w / s;
  const out = new Float32Array(gh * gw);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = Math.floor(y / s) * gw + Math.floor(x / s);
      out[o] = out[o]! + map[y * w + x]! / (s * s);
    }
  }
  return out;
}
