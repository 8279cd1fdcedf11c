/**
 * The classical baseline for motion masks: camera-compensated frame differencing, then the pipeline's pixel
 * refinement. For each target, the frames `spacing` before and after it are aligned to it with the warp renderer's
 * homography code; both images are blurred (σ = `blur` px, which forgives sub-pixel misalignment), the absolute
 * difference taken per pixel (the largest over the channels), and the two neighbours combined by their minimum
 * (three-frame differencing: a pixel is moving only when it differs from both, so the mover's old and new places in
 * the neighbours — the "ghosts" — drop out; where one neighbour does not cover a pixel the other decides, where
 * neither does the pixel is static). Thresholded at `threshold`, then morphology, small-blob removal and GrabCut
 * exactly as the pseudo-mask pipeline refines its masks (masks/refine.ts).
 */
import { gaussianBlur } from "../engine/blur.ts";
import { OFFICIAL_REFINE, refineMask, type RefineOptions } from "../masks/refine.ts";
import { DEFAULT_HOMOGRAPHY, type HomographyOptions } from "./homography.ts";
import type { FrameStack } from "./staticRenderer.ts";
import { alignNeighbours, featureCache, warpNeighbours } from "./warpRenderer.ts";

export type DifferencingOptions = {
  /** Frames between the target and each of its two neighbours. */
  spacing: number;
  /** Colour difference (in [0, 1] units) at which a pixel counts as moving. */
  threshold: number;
  /** Gaussian σ (px) applied to both images before differencing. */
  blur: number;
  refine: RefineOptions;
  homography: HomographyOptions;
};

export const DEFAULT_DIFFERENCING: DifferencingOptions = { spacing: 3, threshold: 0.12, blur: 1, refine: OFFICIAL_REFINE, homography: DEFAULT_HOMOGRAPHY };

/** Per-pixel difference map [h, w] of target `t` against its two aligned neighbours (header). */
export async function differenceMap(clip: FrameStack, t: number, o: DifferencingOptions, features: ReturnType<typeof featureCache>): Promise<Float32Array> {
  const { h, w } = clip;
  const n = h * w;
  const layers = await alignNeighbours(clip, t, warpNeighbours(t, clip.frames.length, 2, o.spacing), features.get, o.homography);
  const target = gaussianBlur(clip.frames[t]!, 3, h, w, o.blur);
  const out = new Float32Array(n).fill(Infinity);
  let any = false;
  for (const l of layers) {
    const im = gaussianBlur(l.image, 3, h, w, o.blur);
    for (let i = 0; i < n; i++) {
      if (!l.covered[i]) continue;
      let d = 0;
      for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(target[c * n + i]! - im[c * n + i]!));
      out[i] = Math.min(out[i]!, d);
      any = true;
    }
  }
  for (let i = 0; i < n; i++) if (out[i] === Infinity || !any) out[i] = 0;
  return out;
}

/** Motion masks [h, w] (1 = moving) of frames `targets` of `clip` by camera-compensated differencing + GrabCut. */
export async function differencingMasks(clip: FrameStack, targets: readonly number[], options: Partial<DifferencingOptions> = {}): Promise<Uint8Array[]> {
  const o = { ...DEFAULT_DIFFERENCING, ...options };
  const features = featureCache(clip, o.homography);
  try {
    const out: Uint8Array[] = [];
    for (const t of targets) {
      const d = await differenceMap(clip, t, o, features);
      const bin = Uint8Array.from(d, (v) => (v >= o.threshold ? 1 : 0));
      out.push((await refineMask(bin, clip.h, clip.w, clip.frames[t]!, clip.h, clip.w, o.refine)).final);
    }
    return out;
  } finally {
    features.free();
  }
}
