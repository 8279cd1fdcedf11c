/**
 * Pseudo-motion masks of a whole clip from any `StaticRenderer`, at the frames' full size and covering the whole
 * frame (not a centred square crop). The clip is cut into windows of `window` consecutive frames; every frame is a
 * target exactly once. Per window: the renderer's static renderings at full size; targets and renderings resized
 * (area) to a working size whose short side is `workingShortSide` (sides multiples of 16, as the backbone needs;
 * never above the frame's own size) for the patch stages (features, SSIM, colour residual, z-scores, fusion, the vote
 * across the window's frames); then morphology and GrabCut on the full-size frames, their kernels scaled to span
 * the same patches (`scaleRefine`), so masks come out at full size.
 */
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { pseudoMasks, DEFAULT_PSEUDO, type PseudoMaskOptions, type PseudoMaskResult } from "../masks/pipeline.ts";
import { loadOpenCv, type RefineOptions } from "../masks/refine.ts";
import { patchFeatures, type MaskTap } from "./pseudoLabels.ts";
import type { FrameStack, StaticRenderer } from "./staticRenderer.ts";

export type FrameMaskOptions = {
  /** Short side (pixels) of the patch stages' working size. */
  workingShortSide: number;
  /** Target frames per pipeline run (the vote is across them). */
  window: number;
  /** Pipeline settings. */
  pseudo: PseudoMaskOptions;
  /** Pixel-stage kernels at full size: scaled to span the same patches as at the working size, or as given. */
  refineScale: "patch" | "none";
};

/**
 * Settings for real footage and frames larger than 64² (RESULTS.md, "the warp renderer"), measured on training
 * scenes: the patch stages at short side 64, the size `DEFAULT_PSEUDO` was tuned at (on 128² pan clips: 0.284 mIoU
 * at 64 against 0.187 at 96 and 0.197 at 128), kernels scaled to the full size, windows of 8 frames.
 */
export const DEFAULT_FRAME_MASKS: FrameMaskOptions = { workingShortSide: 64, window: 8, pseudo: DEFAULT_PSEUDO, refineScale: "patch" };

/** The working size of an h × w frame: short side `shortSide` (or the frame's, when smaller), sides multiples of 16. */
export function workingSize(h: number, w: number, shortSide: number): { h: number; w: number } {
  const scale = Math.min(1, shortSide / Math.min(h, w));
  const r = (v: number) => Math.max(16, Math.round((v * scale) / 16) * 16);
  return { h: r(h), w: r(w) };
}

/** Area resize of planar RGB [3, h, w] to [3, oh, ow] (OpenCV INTER_AREA; bilinear when enlarging). */
export async function resizeImage(img: Float32Array, h: number, w: number, oh: number, ow: number): Promise<Float32Array> {
  if (oh === h && ow === w) return img;
  const { cv } = await loadOpenCv();
  const n = h * w;
  const hwc = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) hwc[3 * i + c] = img[c * n + i]!;
  const src = cv.matFromArray(h, w, cv.CV_32FC3, hwc);
  const dst = new cv.Mat();
  try {
    cv.resize(src, dst, new cv.Size(ow, oh), 0, 0, oh < h ? cv.INTER_AREA : cv.INTER_LINEAR);
    const d = dst.data32F as Float32Array;
    const m = oh * ow;
    const out = new Float32Array(3 * m);
    for (let c = 0; c < 3; c++) for (let i = 0; i < m; i++) out[c * m + i] = d[3 * i + c]!;
    return out;
  } finally {
    src.delete();
    dst.delete();
  }
}

/**
 * Refinement settings for masks refined `r` times larger than the patch stages' working size: the morphology and
 * GrabCut kernels grow by `r` (odd sizes), so they span the same number of patches as at the working size
 * (`DEFAULT_PSEUDO`'s 3 and 7 px were tuned with 4-px patches at 64²).
 */
export function scaleRefine(refine: RefineOptions, r: number): RefineOptions {
  const odd = (k: number) => Math.max(1, 2 * Math.round((k * r - 1) / 2) + 1);
  return { ...refine, morphKernel: odd(refine.morphKernel), grabcutKernel: odd(refine.grabcutKernel) };
}

/** `n` frames in `ceil(n / size)` consecutive windows of near-equal length. */
export function frameWindows(n: number, size: number): number[][] {
  const count = Math.max(1, Math.ceil(n / size));
  return Array.from({ length: count }, (_, i) => {
    const a = Math.round((i * n) / count);
    const b = Math.round(((i + 1) * n) / count);
    return Array.from({ length: b - a }, (_, j) => a + j);
  });
}

export type FrameWindowMasks = {
  targets: number[];
  /** Static renderings at full size. */
  renders: Float32Array[];
  /** The pipeline's result: maps on the working grid, pixel stages and masks at full size. */
  result: PseudoMaskResult;
  working: { h: number; w: number };
};

/** Masks (1 = moving, [h, w] at the clip's size) of every frame of `clip`, and every window's stages. */
export async function rendererPseudoMasks(
  clip: FrameStack,
  renderer: StaticRenderer,
  fx: FeatureExtractor,
  tap: MaskTap,
  opts: Partial<FrameMaskOptions> & { onProgress?: (done: number, total: number) => void } = {},
): Promise<{ masks: Uint8Array[]; windows: FrameWindowMasks[] }> {
  const o = { ...DEFAULT_FRAME_MASKS, ...opts };
  const { h, w } = clip;
  const work = workingSize(h, w, o.workingShortSide);
  if (work.h % tap.stride || work.w % tap.stride) throw new Error(`rendererPseudoMasks: working size ${work.w}×${work.h} is not a multiple of the tap's stride ${tap.stride}`);
  const masks: Uint8Array[] = new Array(clip.frames.length);
  const windows: FrameWindowMasks[] = [];
  const plan = frameWindows(clip.frames.length, o.window);
  for (const [wi, targets] of plan.entries()) {
    const renders = await renderer.render(clip, targets);
    const fullTargets = targets.map((f) => clip.frames[f]! as Float32Array);
    const small = await Promise.all(fullTargets.map((im) => resizeImage(im, h, w, work.h, work.w)));
    const smallRenders = await Promise.all(renders.map((im) => resizeImage(im, h, w, work.h, work.w)));
    const featTargets = await patchFeatures(fx, tap.name, small, work.h, work.w);
    const featRenders = await patchFeatures(fx, tap.name, smallRenders, work.h, work.w);
    const gh = work.h / tap.stride;
    const gw = work.w / tap.stride;
    const result = await pseudoMasks(
      {
        targets: small,
        renders: smallRenders,
        h: work.h,
        w: work.w,
        featTargets,
        featRenders,
        channels: featTargets.length / (targets.length * gh * gw),
        grid: gh,
        gridW: gw,
        refineAt: { images: fullTargets, h, w },
      },
      o.refineScale === "patch" ? { ...o.pseudo, refine: scaleRefine(o.pseudo.refine, w / work.w) } : o.pseudo,
    );
    targets.forEach((f, j) => (masks[f] = result.masks[j]!));
    windows.push({ targets, renders, result, working: work });
    o.onProgress?.(wi + 1, plan.length);
  }
  return { masks, windows };
}
