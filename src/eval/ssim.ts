/**
 * SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) on host arrays, the standard definition: an 11-tap Gaussian window
 * with σ = 1.5 (normalised to sum 1), C1 = (0.01·L)², C2 = (0.03·L)² with data range L = 1, per channel;
 *   SSIM(x, y) = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
 * with local means and (biased) variances from the window.
 * - `ssimMap(..., "valid")`: the map where the whole window fits, (h − 10) × (w − 10); its mean over pixels and
 *   channels is the standard SSIM score (as in Wang's MATLAB `ssim_index` and scikit-image with gaussian weights).
 * - `ssimMap(..., "reflect")`: a same-size map with mirrored borders (`dcb|abcd|cba`), for per-pixel use (the
 *   pseudo-motion masks) and for masked SSIM, which averages it over the pixels a mask keeps.
 * Images are planar [c, h, w] in [0, 1].
 */

const WINDOW = 11;
const SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** The normalised 1-D Gaussian taps (the 2-D window is their outer product). */
export function gaussianTaps(size = WINDOW, sigma = SIGMA): Float64Array {
  const r = (size - 1) / 2;
  const t = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = t.reduce((a, b) => a + b, 0);
  return t.map((x) => x / s);
}

export type SsimPadding = "valid" | "reflect";

/** Separable Gaussian filter of one channel [h, w]; "valid" shrinks by 10, "reflect" keeps the size. */
function blur(src: Float64Array, h: number, w: number, taps: Float64Array, pad: SsimPadding): { data: Float64Array; h: number; w: number } {
  // rows, then columns (as rows of the transpose): the same sums in the same order as two explicit passes
  const { data: a, cols: ow } = filterRows(src, h, w, taps, pad);
  const { data: b, cols: oh } = filterRows(transpose(a, h, ow), ow, h, taps, pad);
  return { data: transpose(b, ow, oh), h: oh, w: ow };
}

/** Each row of [rows, cols] filtered with `taps`: "valid" shrinks it by taps − 1, "reflect" mirrors the ends. */
function filterRows(src: Float64Array, rows: number, cols: number, taps: Float64Array, pad: SsimPadding): { data: Float64Array; cols: number } {
  const r = (taps.length - 1) / 2;
  const ref = (i: number) => {
    // mirror without repeating the edge: -1 → 1, n → n − 2 (repeat for tiny images)
    let j = i;
    while (j < 0 || j >= cols) j = j < 0 ? -j : 2 * (cols - 1) - j;
    return j;
  };
  const oc = pad === "valid" ? cols - 2 * r : cols;
  const out = new Float64Array(rows * oc);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < oc; x++) {
      let s = 0;
      for (let t = 0; t < taps.length; t++) s += taps[t]! * src[y * cols + (pad === "valid" ? x + t : ref(x + t - r))]!;
      out[y * oc + x] = s;
    }
  }
  return { data: out, cols: oc };
}

function transpose(src: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) out[x * rows + y] = src[y * cols + x]!;
  return out;
}

/**
 * The per-pixel SSIM map of planar images `a`, `b` [c, h, w], averaged over channels; returns the map and its size.
 * "valid" needs h, w ≥ 11.
 */
export function ssimMap(a: ArrayLike<number>, b: ArrayLike<number>, c: number, h: number, w: number, pad: SsimPadding = "valid"): { map: Float64Array; h: number; w: number } {
  if (a.length !== c * h * w || b.length !== c * h * w) throw new Error(`ssim: expected ${c}×${h}×${w} values, got ${a.length} and ${b.length}`);
  if (pad === "valid" && (h < WINDOW || w < WINDOW)) throw new Error(`ssim: "valid" needs images of at least ${WINDOW}×${WINDOW}, got ${w}×${h}`);
  const taps = gaussianTaps();
  const n = h * w;
  let acc: Float64Array | undefined;
  let size = { h, w };
  for (let ch = 0; ch < c; ch++) {
    const x = Float64Array.from({ length: n }, (_, i) => a[ch * n + i]!);
    const y = Float64Array.from({ length: n }, (_, i) => b[ch * n + i]!);
    const mx = blur(x, h, w, taps, pad);
    const my = blur(y, h, w, taps, pad).data;
    const xx = blur(x.map((v) => v * v), h, w, taps, pad).data;
    const yy = blur(y.map((v) => v * v), h, w, taps, pad).data;
    const xy = blur(x.map((v, i) => v * y[i]!), h, w, taps, pad).data;
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
