/**
 * Image ops jax-js lacks, built from matmuls and reshapes so they run on every backend and differentiate:
 * bilinear resize (two matmuls with interpolation matrices; PyTorch `F.interpolate(mode="bilinear",
 * align_corners=False)` without anti-aliasing, i.e. half-pixel centres and edge clamping) and average pooling
 * to a patch grid. Images are [b, c, h, w].
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";

/**
 * The [outSize, inSize] matrix of 1-D linear interpolation with half-pixel centres: output sample i reads the
 * input at x = (i + 0.5)·in/out − 0.5, clamped to [0, in − 1], split between its two neighbours.
 */
export function interpolationMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const x = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), inSize - 1);
    const x0 = Math.floor(x);
    const x1 = Math.min(x0 + 1, inSize - 1);
    const t = x - x0;
    m[i * inSize + x0] = m[i * inSize + x0]! + (1 - t);
    m[i * inSize + x1] = m[i * inSize + x1]! + t;
  }
  return m;
}

/**
 * Bilinear resize as `Rh · x · Rwᵀ`. Shapes: b images, c channels, h w in, H W out.
 * Consumes `x` [b, c, h, w]; returns [b, c, H, W].
 */
export function resizeBilinear(x: JArray, outH: number, outW: number): JArray {
  const [, , h, w] = x.shape as [number, number, number, number];
  const rwT = np.array(interpolationMatrix(w, outW)).reshape([outW, w]).transpose([1, 0]); // [w, W]
  const rhT = np.array(interpolationMatrix(h, outH)).reshape([outH, h]).transpose([1, 0]); // [h, H]
  // Both products keep the 2-D matrix on the right (2-D @ N-D is the matmul bug in docs/ENGINE.md).
  const xw = np.matmul(x, rwT); // [b, c, h, W]
  const xhw = np.matmul(xw.transpose([0, 1, 3, 2]), rhT); // [b, c, W, H]
  return xhw.transpose([0, 1, 3, 2]); // [b, c, H, W]
}

/**
 * Mean over each p×p patch: the pixel map pooled to the token grid. Shapes: hp = h/p, wp = w/p.
 * Consumes `x` [b, c, h, w]; returns [b, c, hp, wp].
 */
export function avgPoolPatches(x: JArray, p: number): JArray {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  if (h % p !== 0 || w % p !== 0) throw new Error(`image ${h}×${w} is not divisible by patch ${p}`);
  const pooled = np.mean(x.reshape([b, c, h / p, p, w / p, p]), [3, 5]); // [b, c, hp, wp]
  return pooled;
}
