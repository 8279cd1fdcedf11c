/**
 * SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) on host arrays, the standard definition: an 11-tap Gaussian window
 * with σ = 1.5 (normalised to sum 1), C1 = (0.01·L)², C2 = (0.03·L)² with data range L = 1, per channel;
 *   SSIM(x, y) = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
 * with local means and (biased) variances from the window.
 * - `ssimMap(..., "valid")`: the map where the whole window fits, (h − 10) × (w − 10); its mean over pixels and
 *   channels is the standard SSIM score (as in Wang's MATLAB `ssim_index` and scikit-image with gaussian weights).
 * - `ssimMap(..., "reflect")`: a same-size map with mirrored borders (`dcb|abcd|cba`), for per-pixel use (the
 *   pseudo-motion masks) and for masked SSIM, which averages it over the pixels a mask keeps.
 * Images are planar [c, h, w] in [0, 1]. The window is applied separably (src/engine/blur.ts).
 */
import { gaussianTaps, separableFilter, type Border } from "../engine/blur.ts";

const WINDOW = 11;
const SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

export type SsimPadding = Extract<Border, "valid" | "reflect">;

/**
 * The per-pixel SSIM map of planar images `a`, `b` [c, h, w], averaged over channels; returns the map and its size.
 * "valid" needs h, w ≥ 11.
 */
export function ssimMap(a: ArrayLike<number>, b: ArrayLike<number>, c: number, h: number, w: number, pad: SsimPadding = "valid"): { map: Float64Array; h: number; w: number } {
  if (a.length !== c * h * w || b.length !== c * h * w) throw new Error(`ssim: expected ${c}×${h}×${w} values, got ${a.length} and ${b.length}`);
  if (pad === "valid" && (h < WINDOW || w < WINDOW)) throw new Error(`ssim: "valid" needs images of at least ${WINDOW}×${WINDOW}, got ${w}×${h}`);
  const taps = gaussianTaps(WINDOW, SIGMA);
  const n = h * w;
  let acc: Float64Array | undefined;
  let size = { h, w };
  for (let ch = 0; ch < c; ch++) {
    const x = Float64Array.from({ length: n }, (_, i) => a[ch * n + i]!);
    const y = Float64Array.from({ length: n }, (_, i) => b[ch * n + i]!);
    const mx = separableFilter(x, h, w, taps, pad);
    const my = separableFilter(y, h, w, taps, pad).data;
    const xx = separableFilter(x.map((v) => v * v), h, w, taps, pad).data;
    const yy = separableFilter(y.map((v) => v * v), h, w, taps, pad).data;
    const xy = separableFilter(x.map((v, i) => v * y[i]!), h, w, taps, pad).data;
    size = { h: mx.h, w: mx.w };
    acc ??= new Float64Array(mx.data.length);
    for (let i = 0; i < acc.length; i++) {
      const ux = mx.data[i]!;
      const uy = my[i]!;
      const vx = xx[i]! - ux * ux;
      const vy = yy[i]! - uy * uy;
      const cxy = xy[i]! - ux * uy;
      acc[i] = acc[i]! + ((2 * ux * uy + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2)) / c;
    }
  }
  return { map: acc!, ...size };
}

/** Mean SSIM of planar images [c, h, w] (the standard score), or over the pixels `keep` marks (reflect-padded map). */
export function ssimHost(a: ArrayLike<number>, b: ArrayLike<number>, c: number, h: number, w: number, keep?: ArrayLike<number>): number {
  if (!keep) {
    const { map } = ssimMap(a, b, c, h, w, "valid");
    return map.reduce((s, v) => s + v, 0) / map.length;
  }
  const { map } = ssimMap(a, b, c, h, w, "reflect");
  let s = 0;
  let n = 0;
  for (let i = 0; i < map.length; i++) {
    if (keep[i]! > 0.5) {
      s += map[i]!;
      n++;
    }
  }
  return n > 0 ? s / n : Number.NaN;
}
