/**
 * What the viewer computes, with no DOM: a clip (frames at the model's working size) → the estimated cameras of its
 * spread frames (src/pipeline/novelViews.ts), a static rendering of every frame (each frame is a target of one
 * window, src/pipeline/windows.ts) and its rendering residual, the motion masks of every frame when the model has
 * a motion estimator (src/pipeline/motion.ts `clipMotionMasks`, the code `masks --estimator` runs), and novel views
 * along any camera path. A stage-3 model renders everything (re-renderings, window renders, paths) from its
 * input views' tokens with the dynamic ones replaced, as it was trained (src/pipeline/maskedInputs.ts). Runs in the
 * page and in Node (the browser test compares the two).
 */
import type { Camera } from "../geometry/cameras.ts";
import type { Scene } from "../data/scene.ts";
import { generateScene, type SynthScene } from "../data/synth/index.ts";
import { clipWindows, packImages, windowOrder } from "../data/sampling.ts";
import type { ModelFileMeta, Stage } from "../model/load.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { makeForward, type Forward } from "../pipeline/forward.ts";
import { clipMotionMasks, MOTION_THRESHOLD } from "../pipeline/motion.ts";
import { MASK_TAP } from "../pipeline/maskTap.ts";
import { estimateClip, renderCameraPath, type ClipEstimate } from "../pipeline/novelViews.ts";
import { droppedFraction, makeInputMasker, masksByDefault, type InputMasker } from "../pipeline/maskedInputs.ts";
import { maskWindows } from "../pipeline/windows.ts";

export type Analysis = {
  estimate: ClipEstimate;
  /** Per clip frame: its static rendering [3, h, w] from the window it is a target of (window ends: undefined). */
  renders: (Float32Array | undefined)[];
  /** Per clip frame: the rendering residual [h, w] (mean over channels of |frame − rendering|), or undefined. */
  residuals: (Float32Array | undefined)[];
  /**
   * The motion estimator's output, when the model has one: per clip frame the probabilities [h, w] and the mask
   * [h, w] (1 = moving: probability above `threshold`).
   */
  motion?: { probabilities: Float32Array[]; masks: Uint8Array[]; threshold: number };
  /**
   * A stage-3 model's masked input tokens: the fraction of input tokens replaced in the estimate's inputs (the
   * path's) and over all windows. Absent: the renders used every token.
   */
  tokenMasks?: { estimate: number; windows: number };
};

/** Does this model have a motion estimator (a stage-2 or later WildRayZer)? */
export function hasMotionEstimator(params: RayZerParams, model: ModelConfig): boolean {
  return params.motion !== undefined && model.motion !== undefined;
}

/** The model's short name for labels: a file name without folder and extension (`models/a.safetensors` → `a`). */
export function modelShortName(name: string): string {
  return name.replace(/^.*[\\/]/, "").replace(/\.safetensors$/i, "");
}

/** What the frame overlay shows, in words, for a model file `name` with or without a motion estimator. */
export function overlayLabel(name: string, motion: boolean): string {
  return motion ? `motion masks: motion estimator (${modelShortName(name)})` : "rendering residual (this model has no motion estimator: not masks)";
}

/** Mask [h, w] (1 = moving) → RGBA bytes of the mask overlay: moving pixels red at 70 % opacity, the rest clear. */
export function maskRgba(mask: Uint8Array, h: number, w: number): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(4 * h * w);
  for (let i = 0; i < h * w; i++) if (mask[i]) out.set([255, 32, 32, 180], 4 * i);
  return out;
}

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

/**
 * `backbone` gives the frozen feature extractor the motion estimator reads (loaded once, on the first clip of a
 * model that has an estimator; the session does not dispose it). `stage` is the model file's training stage: a
 * stage-3 model (with its estimator and a backbone) renders from masked input tokens.
 */
export function makeSession(params: RayZerParams, model: ModelConfig, backbone?: () => Promise<FeatureExtractor>, opts: { stage?: Stage } = {}): Session {
  const forward: Forward = makeForward(model);
  const motion = hasMotionEstimator(params, model) && backbone !== undefined;
  const masking = motion && masksByDefault(opts.stage ?? 1, params, model);
  let masker: InputMasker | null = null;
  const getMasker = async (): Promise<InputMasker | undefined> => {
    if (!masking) return undefined;
    masker ??= makeInputMasker(params, model, await backbone!());
    return masker;
  };
  return {
    async analyse(scene, onProgress) {
      const { h, w } = scene;
      const v = model.views;
      const img = 3 * h * w;
      const windows = maskWindows(scene.frames.length, v);
      const motionWindows = motion ? clipWindows(scene.frames.length, v).length : 0;
      const total = windows.length + 1 + motionWindows;
      const m0 = await getMasker();
      const estimate = await estimateClip(params, model, scene, forward, m0);
      onProgress?.(1, total);
      const drops: number[] = [];
      const renders: (Float32Array | undefined)[] = new Array(scene.frames.length).fill(undefined);
      for (const [i, win] of windows.entries()) {
        const x = packImages(scene, windowOrder(win)); // [v, 3, h, w]
        const keep = m0 ? await m0.keep(x, [1, v, 3, h, w]) : undefined;
        if (keep) drops.push(droppedFraction(keep));
        const { renders: r } = await forward.estimate(params, x, [1, v, 3, h, w], keep ? { keep } : {});
        win.targets.forEach((f, j) => (renders[f] ??= r.slice(j * img, (j + 1) * img)));
        onProgress?.(i + 2, total);
      }
      const residuals = renders.map((r, f) => (r ? renderingResidual(scene.frames[f]!.image, r, h, w) : undefined));
      const tokenMasks = m0 ? { tokenMasks: { estimate: droppedFraction(estimate.keep), windows: drops.reduce((a, x) => a + x, 0) / Math.max(1, drops.length) } } : {};
      if (!motion) return { estimate, renders, residuals, ...tokenMasks };
      const fx = await backbone!();
      const done = windows.length + 1;
      const m = await clipMotionMasks(params, model, scene, fx, MASK_TAP, { threshold: MOTION_THRESHOLD, onProgress: (d) => onProgress?.(done + d, total) });
      return { estimate, renders, residuals, motion: { ...m, threshold: MOTION_THRESHOLD }, ...tokenMasks };
    },
    renderPath: (estimate, path, onProgress) => renderCameraPath(params, model, estimate, path, forward, onProgress),
    dispose: () => {
      forward.dispose();
      masker?.dispose();
    },
  };
}
