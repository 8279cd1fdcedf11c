/**
 * Cameras for every frame of a clip from a RayZer's camera estimator. The clip is cut into the model's windows
 * (`clipWindows`: `views` consecutive frames, inputs at the two ends); the model predicts each window's cameras
 * relative to the window's first frame. Consecutive windows share a frame (each window's first frame lies in an
 * earlier window), so the windows are chained: a frame's pose is its window's first-frame pose (from the earlier
 * window) times its pose within the window. A frame in several windows keeps the pose from the first. Each window
 * is predicted on its own, so the scale of the translation can differ from window to window (the model has no
 * metric scale); rotations chain exactly. Intrinsics are returned in pixels of the working size and of the
 * original frame (through the frame's `CropMap`).
 */
import type { Clip } from "../data/clip.ts";
import { clipWindows, packImages, windowOrder, type ViewWindow } from "../data/sampling.ts";
import { uncropIntrinsics } from "../data/crop.ts";
import { denormalizeIntrinsics, type Intrinsics } from "../geometry/cameras.ts";
import { mat4Identity, mat4Mul, type Mat4 } from "../geometry/mat4.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { makeForward } from "./forward.ts";

export type FrameCamera = {
  /** OpenCV camera-to-world, row-major 4×4, relative to frame 0. */
  c2w: Mat4;
  /** fx, fy, cx, cy in pixels of the working size. */
  working: Intrinsics;
  /** fx, fy, cx, cy in pixels of the original frame. */
  original: Intrinsics;
  /** Index of the window (in `windows`) the pose came from. */
  window: number;
};

/** One window's relative poses (order: the window's frames ascending) chained onto the poses found so far. */
export function chainWindow(known: ReadonlyMap<number, Mat4>, frames: readonly number[], relative: readonly Mat4[]): Map<number, Mat4> {
  const first = frames[0]!;
  const base = known.get(first) ?? (known.size === 0 ? mat4Identity() : undefined);
  if (!base) throw new Error(`chainWindow: frame ${first} has no pose yet; windows must overlap`);
  const out = new Map<number, Mat4>();
  frames.forEach((f, i) => {
    if (!known.has(f)) out.set(f, mat4Mul(base, relative[i]!));
  });
  return out;
}

/** Cameras of every frame of `clip` (at the model's working size) and the windows used. */
export async function clipCameras(
  params: RayZerParams,
  model: ModelConfig,
  clip: Clip,
  onProgress?: (done: number, total: number) => void,
): Promise<{ cameras: FrameCamera[]; windows: ViewWindow[] }> {
  const { h, w } = clip;
  const v = model.views;
  const windows = clipWindows(clip.frames.length, v);
  const forward = makeForward(model);
  const poses = new Map<number, Mat4>();
  const cameras: FrameCamera[] = new Array(clip.frames.length);
  try {
    for (const [wi, win] of windows.entries()) {
      const order = windowOrder(win);
      const x = packImages(clip, order); // [v, 3, h, w]
      const { c2w, fxfycxcy } = await forward.estimate(params, x, [1, v, 3, h, w]);
      const frames = [...order].sort((a, b) => a - b);
      const at = (f: number) => order.indexOf(f);
      const rel = frames.map((f) => Array.from(c2w.subarray(16 * at(f), 16 * at(f) + 16)));
      const added = chainWindow(poses, frames, rel);
      for (const [f, pose] of added) {
        poses.set(f, pose);
        const k = denormalizeIntrinsics(Array.from(fxfycxcy.subarray(4 * at(f), 4 * at(f) + 4)) as Intrinsics, h, w);
        cameras[f] = { c2w: pose, working: k, original: uncropIntrinsics(k, clip.crops[f]!), window: wi };
      }
      onProgress?.(wi + 1, windows.length);
    }
  } finally {
    forward.dispose();
  }
  return { cameras, windows };
}
