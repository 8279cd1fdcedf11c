/**
 * The `warp` static renderer: a classical motion-compensated background estimate. Each target frame's static
 * rendering is the per-pixel median of `neighbours` other frames of the clip, each aligned to the target by a
 * homography (homography.ts: ORB + RANSAC), at the clip's full resolution. A mover sits elsewhere in each aligned
 * neighbour (it moved, the background was compensated), so the median votes it out; pixels a neighbour does not
 * cover are left out of its vote, and pixels no neighbour covers keep the target's own value (no evidence either
 * way). Neighbours are taken at offsets ±spacing, ±2·spacing, … from the target, nearest first, from the other side
 * when a clip end is near: far enough apart that a mover has moved off itself, near enough that the homography
 * holds (the defaults are measured: RESULTS.md, "the warp renderer").
 */
import { alignFrames, DEFAULT_HOMOGRAPHY, frameFeatures, freeFeatures, toGrey, warpToTarget, type FrameFeatures, type Homography, type HomographyOptions } from "./homography.ts";
import type { FrameStack, StaticRenderer } from "./staticRenderer.ts";

export type WarpOptions = {
  /** How many aligned neighbours vote per target. */
  neighbours: number;
  /** Frames between consecutive neighbours (and between the target and its nearest ones). */
  spacing: number;
  homography: HomographyOptions;
};

export const DEFAULT_WARP: WarpOptions = { neighbours: 6, spacing: 3, homography: DEFAULT_HOMOGRAPHY };

/** The neighbours of frame `t` in an `n`-frame clip: offsets ±s, ±2s, … nearest first, at most `k`. */
export function warpNeighbours(t: number, n: number, k: number, s: number): number[] {
  const out: number[] = [];
  for (let j = 1; out.length < k && j * s < n; j++) {
    for (const f of [t + j * s, t - j * s]) if (f >= 0 && f < n && out.length < k) out.push(f);
  }
  // a short clip: fill with the remaining frames, nearest first
  if (out.length < k) {
    const rest = Array.from({ length: n }, (_, f) => f).filter((f) => f !== t && !out.includes(f)).sort((a, b) => Math.abs(a - t) - Math.abs(b - t));
    out.push(...rest.slice(0, k - out.length));
  }
  return out;
}

/** Per-pixel, per-channel median of the covering layers; uncovered pixels take `fallback`'s value. */
export function coveredMedian(layers: readonly { image: Float32Array; covered: Uint8Array }[], fallback: Float32Array, h: number, w: number): { image: Float32Array; support: Uint8Array } {
  const n = h * w;
  const image = new Float32Array(3 * n);
  const support = new Uint8Array(n);
  const vals = new Float32Array(layers.length);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (const l of layers) if (l.covered[i]) m++;
    support[i] = m;
    for (let c = 0; c < 3; c++) {
      const o = c * n + i;
      if (m === 0) {
        image[o] = fallback[o]!;
        continue;
      }
      let k = 0;
      for (const l of layers) {
        if (!l.covered[i]) continue;
        // insertion sort: a handful of values
        const v = l.image[o]!;
        let j = k++;
        while (j > 0 && vals[j - 1]! > v) {
          vals[j] = vals[j - 1]!;
          j--;
        }
        vals[j] = v;
      }
      image[o] = m % 2 ? vals[(m - 1) / 2]! : 0.5 * (vals[m / 2 - 1]! + vals[m / 2]!);
    }
  }
  return { image, support };
}

/** A guess for the homography `r` times as far along a steady motion: I + r·(H − I), H normalised to H₃₃ = 1. */
function extrapolate(H: Homography, r: number): Homography {
  const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  return H.map((v, i) => I[i]! + r * (v / H[8]! - I[i]!));
}

/** Aligns `frames[f]` for each `f` in `sources` to `frames[t]`; frames whose homography fails are left out. */
export async function alignNeighbours(
  clip: FrameStack,
  t: number,
  sources: readonly number[],
  features: (f: number) => Promise<FrameFeatures>,
  opts: HomographyOptions,
): Promise<{ frame: number; image: Float32Array; covered: Uint8Array }[]> {
  const out = [];
  const ft = await features(t);
  const found = new Map<number, Homography>(); // offset → homography, a guess for farther neighbours on that side
  for (const f of sources) {
    const d = f - t;
    const near = [...found.keys()].filter((k) => Math.sign(k) === Math.sign(d) && Math.abs(k) < Math.abs(d)).sort((a, b) => Math.abs(b) - Math.abs(a))[0];
    const guess = near === undefined ? null : extrapolate(found.get(near)!, d / near);
    const H = await alignFrames(ft, await features(f), opts, guess);
    if (!H) continue;
    found.set(d, H);
    out.push({ frame: f, ...warpToTarget(clip.frames[f]!, H, clip.h, clip.w) });
  }
  return out;
}

/** A per-clip cache of ORB features; `free` deletes them. */
export function featureCache(clip: FrameStack, opts: HomographyOptions): { get: (f: number) => Promise<FrameFeatures>; free: () => void } {
  const cache = new Map<number, FrameFeatures>();
  return {
    get: async (f) => {
      let v = cache.get(f);
      if (!v) {
        v = await frameFeatures(toGrey(clip.frames[f]!, clip.h, clip.w), clip.h, clip.w, opts);
        cache.set(f, v);
      }
      return v;
    },
    free: () => {
      for (const v of cache.values()) freeFeatures(v);
      cache.clear();
    },
  };
}

/** The warp renderer with `options` (defaults: DEFAULT_WARP). */
export function warpRenderer(options: Partial<WarpOptions> = {}): StaticRenderer & { options: WarpOptions } {
  const o: WarpOptions = { ...DEFAULT_WARP, ...options };
  if (!Number.isInteger(o.neighbours) || o.neighbours < 1) throw new Error(`warpRenderer: neighbours must be a positive integer, got ${o.neighbours}`);
  if (!Number.isInteger(o.spacing) || o.spacing < 1) throw new Error(`warpRenderer: spacing must be a positive integer, got ${o.spacing}`);
  return {
    name: "warp",
    options: o,
    async render(clip, targets, onProgress) {
      const cache = featureCache(clip, o.homography);
      try {
        const out: Float32Array[] = [];
        for (const t of targets) {
          const layers = await alignNeighbours(clip, t, warpNeighbours(t, clip.frames.length, o.neighbours, o.spacing), cache.get, o.homography);
          out.push(coveredMedian(layers, clip.frames[t]!, clip.h, clip.w).image);
          onProgress?.(out.length, targets.length);
        }
        return out;
      } finally {
        cache.free();
      }
    },
  };
}
