/**
 * Separable filtering of planar host images: the one blur the pseudo-mask residual, the differencing baseline,
 * the degraded renderings of the mask evaluation, and both SSIMs (the standard Gaussian one and the official
 * pseudo-mask variant's uniform window) are built on. A 2-D kernel that is the outer product k ⊗ k is applied as a
 * pass of `k` along each row, then a pass of `k` along each column (the sums of the second pass run over the first
 * pass's results, stored in the input's element type).
 *
 * Borders (names as numpy's `np.pad` modes; r = the kernel radius, a row `abcd`):
 * - "clamp":     the edge value repeats, `aaa|abcd|ddd` (numpy "edge", OpenCV BORDER_REPLICATE).
 * - "reflect":   mirrored about the edge sample, which is not repeated, `dcb|abcd|cba` (numpy "reflect",
 *                OpenCV BORDER_REFLECT_101).
 * - "symmetric": mirrored about the edge, which is repeated, `cba|abcd|dcb` (numpy "symmetric"; what scipy.ndimage
 *                and scikit-image call "reflect").
 * - "valid":     no padding; each axis shrinks by 2r to the positions where the whole kernel fits.
 * Mirroring repeats for rows shorter than the radius.
 */

export type Border = "clamp" | "reflect" | "symmetric" | "valid";

/** The `size` normalised 1-D Gaussian taps of standard deviation `sigma` (samples), centred; they sum to 1. */
export function gaussianTaps(size: number, sigma: number): Float64Array {
  const r = (size - 1) / 2;
  const t = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = t.reduce((a, b) => a + b, 0);
  return t.map((x) => x / s);
}

/** The index that position `i` of an `n`-sample axis reads under `border` (not "valid"). */
function borderIndex(i: number, n: number, border: Exclude<Border, "valid">): number {
  if (border === "clamp") return Math.min(n - 1, Math.max(0, i));
  let j = i;
  if (border === "reflect") {
    if (n === 1) return 0;
    while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
  } else {
    while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - j - 1;
  }
  return j;
}

/** For each output position of an `n`-sample axis, the `taps` source indices it reads (flattened), and the output length. */
function readIndices(n: number, taps: number, border: Border): { idx: Int32Array; out: number } {
  const r = (taps - 1) / 2;
  const out = border === "valid" ? n - 2 * r : n;
  const idx = new Int32Array(Math.max(0, out) * taps);
  for (let x = 0; x < out; x++)
    for (let t = 0; t < taps; t++) idx[x * taps + t] = border === "valid" ? x + t : borderIndex(x + t - r, n, border);
  return { idx, out };
}

/**
 * One channel `src` [h, w] filtered with `taps` along rows, then along columns; each sum is divided by `divisor`
 * (1 for normalised taps; the window length for a running-sum box filter, as scipy's `uniform_filter` computes it).
 * The intermediate and the result have `src`'s element type. Returns the map [oh, ow] (smaller only for "valid").
 */
export function separableFilter<T extends Float32Array | Float64Array>(
  src: T,
  h: number,
  w: number,
  taps: ArrayLike<number>,
  border: Border,
  divisor = 1,
): { data: T; h: number; w: number } {
  const n = taps.length;
  if (n % 2 !== 1) throw new Error(`separableFilter: ${n} taps, expected an odd number`);
  if (src.length !== h * w) throw new Error(`separableFilter: expected ${h}×${w} values, got ${src.length}`);
  if (border === "valid" && (h < n || w < n)) throw new Error(`separableFilter: "valid" needs at least ${n}×${n}, got ${w}×${h}`);
  const make = (len: number) => (src instanceof Float32Array ? new Float32Array(len) : new Float64Array(len)) as T;
  const cols = readIndices(w, n, border);
  const rows = readIndices(h, n, border);
  const ow = cols.out;
  const oh = rows.out;
  const tmp = make(h * ow); // [h, ow]: rows filtered
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += taps[t]! * src[o + cols.idx[x * n + t]!]!;
      tmp[y * ow + x] = s / divisor;
    }
  }
  const out = make(oh * ow); // [oh, ow]: then columns
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += taps[t]! * tmp[rows.idx[y * n + t]! * ow + x]!;
      out[y * ow + x] = s / divisor;
    }
  }
  return { data: out, h: oh, w: ow };
}

/**
 * Gaussian blur of planar images `img` [c, h, w]: σ in pixels, radius ⌈3σ⌉, borders clamped; σ ≤ 0 copies.
 * Returns [c, h, w].
 */
export function gaussianBlur(img: Float32Array, c: number, h: number, w: number, sigma: number): Float32Array {
  const out = Float32Array.from(img);
  if (sigma <= 0) return out;
  const taps = gaussianTaps(2 * Math.ceil(3 * sigma) + 1, sigma);
  const n = h * w;
  for (let ch = 0; ch < c; ch++) out.set(separableFilter(img.subarray(ch * n, (ch + 1) * n), h, w, taps, "clamp").data, ch * n);
  return out;
}
