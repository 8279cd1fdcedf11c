/**
 * What the viewer computes, with no DOM: a clip (frames at the model's working size) → the estimated cameras of its
 * spread frames (src/pipeline/novelViews.ts), a static rendering of every frame (each frame is a target of one
 * window, src/pipeline/windows.ts) and its rendering residual, and novel views along any camera path. Runs in the
 * page and in Node (the browser test compares the two).
 */
import type { Camera } from "../geometry/cameras.ts";
import type { Scene } from "../data/scene.ts";
import { packImages, windowOrder } from "../data/sampling.ts";
import { generateScene, type SynthScene } from "../data/synth/index.ts";
import type { ModelFileMeta } from "../model/load.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { makeForward, type Forward } from "../pipeline/forward.ts";
import { estimateClip, renderCameraPath, type ClipEstimate } from "../pipeline/novelViews.ts";
import { maskWindows } from "../pipeline/windows.ts";

export type Analysis = {
  estimate: ClipEstimate;
  /** Per clip frame: its static rendering [3, h, w] from the window it is a target of (window ends: undefined). */
  renders: (Float32Array | undefined)[];
  /** Per clip frame: the rendering residual [h, w] (mean over channels of |frame − rendering|), or undefined. */
  residuals: (Float32Array | undefined)[];
};

/**
 * The viewer's built-in scene `seed`: the synthetic scenes the model trained on (its file's data config, at its
 * working size), but 12 frames long and with 1–2 moving objects, so there is motion to see.
 */
export function builtInScene(seed: number, meta: Pick<ModelFileMeta, "data" | "model">): SynthScene {
  const size = meta.model.imageSize as SynthScene["config"]["size"];
  return generateScene(seed, { ...meta.data, size, frames: 12, movers: [1, 2] });
}

/** Mean over the 3 channels of |a − b| per pixel: planar [3, h, w] images → [h, w]. */
export function renderingResidual(a: Float32Array, b: Float32Array, h: number, w: number): Float32Array {
  const n = h * w;
  const out = new Float32Array(n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[i]! += Math.abs(a[c * n + i]! - b[c * n + i]!) / 3;
  return out;
}

/**
 * The overlay's ramp for a clip: from the median residual of all its rendered pixels (the model's usual error,
 * shown clear) to the 98th percentile (shown opaque), so what stands out is what the static renderer explains
 * worst in this clip: usually the moving things.
 */
export function residualRamp(residuals: readonly (Float32Array | undefined)[]): { lo: number; hi: number } {
  const all = Float32Array.from(residuals.flatMap((r) => (r ? Array.from(r) : []))).sort();
  if (all.length === 0) return { lo: 0, hi: 1 };
  const q = (p: number) => all[Math.min(all.length - 1, Math.floor(p * all.length))]!;
  const lo = q(0.5);
  return { lo, hi: Math.max(lo + 1e-3, q(0.98)) };
}

/** Residual [h, w] → RGBA bytes of the heat overlay: opacity ramps from `lo` (clear) to `hi` (0.9), yellow → red. */
export function residualRgba(res: Float32Array, h: number, w: number, ramp: { lo: number; hi: number }): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(4 * h * w);
  for (let i = 0; i < h * w; i++) {
    const a = Math.min(1, Math.max(0, (res[i]! - ramp.lo) / (ramp.hi - ramp.lo)));
    out.set([255, Math.round(220 * (1 - a)), 0, Math.round(230 * a)], 4 * i);
  }
  return out;
}

/** The viewer's model session: one jitted forward, reused for every clip and path (dispose when done). */
export type Session = {
  analyse(scene: Scene, onProgress?: (done: number, total: number) => void): Promise<Analysis>;
  renderPath(estimate: ClipEstimate, path: readonly Camera[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]>;
  dispose(): void;
};

export function makeSession(params: RayZerParams, model: ModelConfig): Session {
  const forward: Forward = makeForward(model);
  return {
    async analyse(scene, onProgress) {
      const { h, w } = scene;
      const v = model.views;
      const img = 3 * h * w;
      const windows = maskWindows(scene.frames.length, v);
      const total = windows.length + 1;
      const estimate = await estimateClip(params, model, scene, forward);
      onProgress?.(1, total);
      const renders: (Float32Array | undefined)[] = new Array(scene.frames.length).fill(undefined);
      for (const [i, win] of windows.entries()) {
        const x = packImages(scene, windowOrder(win)); // [v, 3, h, w]
        const { renders: r } = await forward.estimate(params, x, [1, v, 3, h, w]);
        win.targets.forEach((f, j) => (renders[f] ??= r.slice(j * img, (j + 1) * img)));
        onProgress?.(i + 2, total);
      }
      const residuals = renders.map((r, f) => (r ? renderingResidual(scene.frames[f]!.image, r, h, w) : undefined));
      return { estimate, renders, residuals };
    },
    renderPath: (estimate, path, onProgress) => renderCameraPath(params, model, estimate, path, forward, onProgress),
    dispose: () => forward.dispose(),
  };
}
