/**
 * PSNR, SSIM and the perceptual distance of two images on the host, optionally only on the pixels a mask marks
 * (the paper's static-pixel metrics). The perceptual distance needs sides that are multiples of 16: other sizes
 * are centre-cropped to the largest such size (at least 16) for that metric only.
 */
import { featureCosineDissimilarity } from "../masks/dissimilarity.ts";
import { numpy as np } from "@jax-js/jax";
import { perceptualDistance } from "../features/perceptual.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { LoadedFeatures } from "../features/index.ts";
import { psnrHost } from "./metrics.ts";
import { ssimHost } from "./ssim.ts";

export type Comparison = { psnr: number; ssim: number; perceptual: number; /** Fraction of pixels scored. */ coverage: number };

/** Planar [c, h, w] → its centred crop [c, ch, cw]. */
function centreCrop(x: ArrayLike<number>, c: number, h: number, w: number, ch: number, cw: number): Float32Array {
  const y0 = Math.floor((h - ch) / 2);
  const x0 = Math.floor((w - cw) / 2);
  const out = new Float32Array(c * ch * cw);
  for (let k = 0; k < c; k++) for (let y = 0; y < ch; y++) for (let xx = 0; xx < cw; xx++) out[(k * ch + y) * cw + xx] = x[(k * h + y + y0) * w + xx + x0]!;
  return out;
}

/** Compares planar RGB images `a`, `b` [3, h, w] in [0, 1]; `keep` [h, w] (1 = score this pixel). */
export async function compareImages(fx: FeatureExtractor, a: Float32Array, b: Float32Array, h: number, w: number, keep?: ArrayLike<number>): Promise<Comparison> {
  const psnr = psnrHost(a, b, keep);
  const ssim = h >= 11 && w >= 11 ? ssimHost(a, b, 3, h, w, keep) : Number.NaN;
  const ch = Math.max(16, Math.floor(h / 16) * 16);
  const cw = Math.max(16, Math.floor(w / 16) * 16);
  if (h < 16 || w < 16) throw new Error(`compareImages: the perceptual distance needs images of at least 16×16, got ${w}×${h}`);
  const ca = centreCrop(a, 3, h, w, ch, cw);
  const cb = centreCrop(b, 3, h, w, ch, cw);
  const weight = keep ? np.array(centreCrop(keep, 1, h, w, ch, cw)).reshape([1, 1, ch, cw]) : null;
  const d = perceptualDistance(fx, np.array(ca).reshape([1, 3, ch, cw]), np.array(cb).reshape([1, 3, ch, cw]), weight);
  const perceptual = ((await d.data()) as Float32Array)[0]!;
  let kept = h * w;
  if (keep) {
    kept = 0;
    for (let i = 0; i < keep.length; i++) if (keep[i]! > 0.5) kept++;
  }
  return { psnr, ssim, perceptual: Math.max(0, perceptual), coverage: kept / (h * w) };
}

/**
 * Mean over the patch grid of 1 − cos(Φ_p(a), Φ_p(b)) with the extractor's patch tap (the pseudo-masks' feature
 * dissimilarity); images are centre-cropped to a multiple of 16 (MobileNet) or of the patch size (DINO: 14 or 16).
 */
export async function patchDissimilarity(f: LoadedFeatures, a: Float32Array, b: Float32Array, h: number, w: number): Promise<number> {
  const unit = f.patchTap === "patch" ? (f.label.startsWith("dinov2") ? 14 : 16) : 16;
  const ch = Math.floor(h / unit) * unit;
  const cw = Math.floor(w / unit) * unit;
  const x = np.array(centreCrop(a, 3, h, w, ch, cw)).reshape([1, 3, ch, cw]);
  const y = np.array(centreCrop(b, 3, h, w, ch, cw)).reshape([1, 3, ch, cw]);
  const fa = f.extractor.extract(x, [f.patchTap]).get(f.patchTap)!;
  const fb = f.extractor.extract(y, [f.patchTap]).get(f.patchTap)!;
  const [, c, gh, gw] = fa.shape as [number, number, number, number];
  const [da, db] = (await Promise.all([fa.data(), fb.data()])) as Float32Array[];
  const d = featureCosineDissimilarity(da!, db!, 1, c, gh * gw);
  return d.reduce((s, x) => s + x, 0) / d.length;
}
