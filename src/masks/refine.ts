/**
 * Pseudo-mask stages 9–12 at pixel resolution (docs/METHOD.md §5), with OpenCV.js (`@techstark/opencv-js`, loaded once):
 * nearest-upsample the patch mask, close then open with a 3×3 ellipse (1 iteration each), drop 8-connected blobs
 * smaller than 0.25 % of the image, then GrabCut on the frame: definite foreground = the mask eroded by a 7×7
 * square, definite background = its complement eroded the same way, the rest "probable foreground"; 5 iterations
 * from that mask; output = definite ∪ probable foreground. If GrabCut fails or finds nothing, the morphology result
 * is kept. Every stage's output is returned for `--debug`.
 */
import { createRequire } from "node:module";

// OpenCV.js has no TypeScript types we rely on; the few calls we make are typed loosely here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CV = any;
let cvPromise: Promise<{ cv: CV }> | null = null;

/**
 * OpenCV.js, initialised once (≈ 1 s). Wrapped in an object: the Emscripten module has a `then` method, so a
 * promise resolving to the module itself would try to adopt it as a thenable and never settle.
 */
export function loadOpenCv(): Promise<{ cv: CV }> {
  cvPromise ??= (async () => {
    const req = createRequire(import.meta.url);
    let mod = req("@techstark/opencv-js") as CV;
    if (mod instanceof Promise) mod = await mod;
    if (!mod.Mat) await new Promise<void>((res) => (mod.onRuntimeInitialized = () => res()));
    return { cv: mod };
  })();
  return cvPromise;
}

export type RefineOptions = { morphKernel: number; morphIters: number; minAreaRatio: number; grabcutKernel: number; grabcutIters: number; grabcut: boolean };
export const OFFICIAL_REFINE: RefineOptions = { morphKernel: 3, morphIters: 1, minAreaRatio: 0.0025, grabcutKernel: 7, grabcutIters: 5, grabcut: true };

export type Refined = { upsampled: Uint8Array; morphology: Uint8Array; final: Uint8Array; grabcutUsed: boolean };

/** Nearest upsampling of a [gh, gw] mask to [h, w]. */
export function upsampleNearest(mask: ArrayLike<number>, gh: number, gw: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = mask[Math.floor((y * gh) / h) * gw + Math.floor((x * gw) / w)]! ? 1 : 0;
  return out;
}

/** Refines a patch mask on its frame `image` (planar RGB [3, h, w] in [0, 1]). */
export async function refineMask(patchMask: ArrayLike<number>, gh: number, gw: number, image: Float32Array, h: number, w: number, opts: RefineOptions = OFFICIAL_REFINE): Promise<Refined> {
  const { cv } = await loadOpenCv();
  const upsampled = upsampleNearest(patchMask, gh, gw, h, w);
  const mats: CV[] = [];
  const keep = <T>(m: T): T => (mats.push(m), m);
  try {
    const m = keep(cv.matFromArray(h, w, cv.CV_8UC1, Array.from(upsampled, (v) => v * 255)));
    const ellipse = keep(cv.getStructuringElement(cv.MORPH_ELLIPSE, new cv.Size(opts.morphKernel, opts.morphKernel)));
    const anchor = new cv.Point(-1, -1);
    cv.morphologyEx(m, m, cv.MORPH_CLOSE, ellipse, anchor, opts.morphIters);
    cv.morphologyEx(m, m, cv.MORPH_OPEN, ellipse, anchor, opts.morphIters);
    // drop small 8-connected components
    const labels = keep(new cv.Mat());
    const stats = keep(new cv.Mat());
    const centroids = keep(new cv.Mat());
    const count = cv.connectedComponentsWithStats(m, labels, stats, centroids, 8, cv.CV_32S);
    const minArea = Math.floor(opts.minAreaRatio * h * w);
    const morphology = new Uint8Array(h * w);
    const lab = labels.data32S as Int32Array;
    const big = Array.from({ length: count }, (_, c) => c > 0 && stats.intAt(c, cv.CC_STAT_AREA) >= minArea);
    for (let i = 0; i < h * w; i++) morphology[i] = big[lab[i]!] ? 1 : 0;
    let final = morphology;
    let grabcutUsed = false;
    if (opts.grabcut && morphology.some((v) => v)) {
      try {
        const rgb = new Uint8Array(h * w * 3);
        for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(Math.min(1, Math.max(0, image[c * h * w + i]!)) * 255);
        const img = keep(cv.matFromArray(h, w, cv.CV_8UC3, Array.from(rgb)));
        const fg = keep(cv.matFromArray(h, w, cv.CV_8UC1, Array.from(morphology, (v) => v * 255)));
        const bg = keep(cv.matFromArray(h, w, cv.CV_8UC1, Array.from(morphology, (v) => (1 - v) * 255)));
        const square = keep(cv.Mat.ones(opts.grabcutKernel, opts.grabcutKernel, cv.CV_8U));
        cv.erode(fg, fg, square);
        cv.erode(bg, bg, square);
        const gc = new Uint8Array(h * w).fill(cv.GC_PR_FGD);
        for (let i = 0; i < h * w; i++) {
          if (fg.data[i]) gc[i] = cv.GC_FGD;
          else if (bg.data[i]) gc[i] = cv.GC_BGD;
        }
        const gcMask = keep(cv.matFromArray(h, w, cv.CV_8UC1, Array.from(gc)));
        const bgd = keep(new cv.Mat());
        const fgd = keep(new cv.Mat());
        cv.setRNGSeed(0); // GrabCut's GMM initialisation draws from OpenCV's global RNG: same input, same mask
        cv.grabCut(img, gcMask, new cv.Rect(0, 0, w, h), bgd, fgd, opts.grabcutIters, cv.GC_INIT_WITH_MASK);
        const out = Uint8Array.from(gcMask.data as Uint8Array, (v) => (v === cv.GC_FGD || v === cv.GC_PR_FGD ? 1 : 0));
        if (out.some((v) => v)) {
          final = out;
          grabcutUsed = true;
        }
      } catch {
        // GrabCut can fail on degenerate masks (e.g. no background left): keep the morphology result
      }
    }
    return { upsampled, morphology, final, grabcutUsed };
  } finally {
    for (const m of mats) m.delete();
  }
}
