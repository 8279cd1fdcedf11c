/**
 * Image metrics on host arrays (planar [3, h, w] in [0, 1]): MSE and PSNR, with static-pixel variants that only
 * count pixels where `keep` is 1 (the paper reports PSNR on static pixels). SSIM is in ssim.ts; the perceptual
 * distance arrives with the frozen feature backbone.
 */

/** Mean squared error over all values, or over pixels with keep[p] = 1 (all channels) when `keep` is given. */
export function mseHost(a: ArrayLike<number>, b: ArrayLike<number>, keep?: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`mse: lengths differ (${a.length} vs ${b.length})`);
  if (!keep) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    return s / a.length;
  }
  const px = keep.length;
  const c = a.length / px;
  let s = 0;
  let n = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < px; p++) {
      if (keep[p]! > 0.5) {
        const i = ch * px + p;
        s += (a[i]! - b[i]!) ** 2;
        n++;
      }
    }
  }
  return n > 0 ? s / n : Number.NaN;
}

/** PSNR in dB for signals in [0, 1]: 10·log10(1 / MSE). Identical images give +Infinity. */
export function psnrHost(a: ArrayLike<number>, b: ArrayLike<number>, keep?: ArrayLike<number>): number {
  return 10 * Math.log10(1 / mseHost(a, b, keep));
}

/** Mean of finite values (NaN when none). */
export function meanFinite(xs: readonly number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((s, x) => s + x, 0) / f.length : Number.NaN;
}
