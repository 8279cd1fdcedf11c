/**
 * Training samples from a scene: which frames become the inputs and which the targets, and the packing of a
 * batch into the planar arrays the model takes. View selection follows the official "two_frame" selector (docs/METHOD.md
 * §3): draw a gap g and a start s, use frames s and e = s + g as the K = 2 inputs, and draw the targets from the
 * frames strictly between them. The sample order is [inputs…, targets…]; the first input is the canonical view.
 *
 * Footage goes the same way everywhere: a clip → windows of the model's `views` frames (`clipWindows` for all of a
 * clip, `randomClipWindow` for a training sample) → a window's order (`windowOrder`) → packed samples (`packImages`
 * for one sample's images, `packBatch` for a batch with masks, statics and cameras; `clipSamples` lists every
 * window of a set of clips as samples).
 */
import type { Rng } from "../engine/rng.ts";
import { mat4Mul, rigidInverse } from "../geometry/mat4.ts";
import type { Scene } from "./scene.ts";

/** One sample's frames: indices into a scene's frames, the inputs (the first is the canonical view) and the targets. */
export type ViewWindow = { inputs: number[]; targets: number[] };

/**
 * Frame indices for one sample: `inputs` (first the two gap ends, then for K > 2 random frames in between) and
 * `targets` (distinct frames strictly inside the gap, in random order). Needs `frames ≥ views`.
 */
export function selectViews(rng: Rng, frames: number, inputViews: number, views: number): ViewWindow {
  if (frames < views) throw new Error(`a sample of ${views} views needs at least ${views} frames, the scene has ${frames}`);
  if (inputViews < 1 || inputViews >= views) throw new Error(`inputViews must be in [1, views), got ${inputViews}`);
  const inside = views - 2; // frames strictly between the two ends
  const minGap = inside + 1;
  const gap = minGap + rng.int(frames - minGap); // g ∈ [minGap, frames − 1]
  const start = rng.int(frames - gap); // s ∈ [0, frames − g − 1]
  const middle = shuffle(
    rng,
    Array.from({ length: gap - 1 }, (_, i) => start + 1 + i),
  ).slice(0, inside);
  const ends = [start, start + gap];
  const order = inputViews === 1 ? [ends[0]!, ...shuffle(rng, [ends[1]!, ...middle])] : [...ends, ...middle];
  return { inputs: order.slice(0, inputViews), targets: order.slice(inputViews) };
}

/**
 * Windows of `views` consecutive frames over an `n`-frame clip, inputs at the two ends (as in training) and the
 * frames between as targets; consecutive windows share an end frame, the last one is moved back to end at frame
 * n − 1. Every frame lies in some window.
 */
export function clipWindows(n: number, views: number): ViewWindow[] {
  if (views < 3) throw new Error(`clipWindows: ${views} views leave no target between two inputs`);
  if (n < views) throw new Error(`clipWindows: ${n} frames, the model needs ${views}`);
  const windows: ViewWindow[] = [];
  for (let s = 0; ; s += views - 1) {
    const start = Math.min(s, n - views);
    windows.push({ inputs: [start, start + views - 1], targets: Array.from({ length: views - 2 }, (_, i) => start + 1 + i) });
    if (start + views >= n) break;
  }
  return windows;
}

/**
 * A training sample from an `n`-frame clip: a run of `views` consecutive frames starting at a uniform start, and the
 * views chosen inside it as for a generated scene (`selectViews` on the run). Draws the start, then the selection.
 */
export function randomClipWindow(rng: Rng, n: number, views: number, inputViews: number): ViewWindow {
  if (n < views) throw new Error(`a sample of ${views} consecutive frames needs at least ${views} frames, the clip has ${n}`);
  const start = rng.int(n - views + 1);
  const { inputs, targets } = selectViews(rng, views, inputViews, views);
  return { inputs: inputs.map((f) => f + start), targets: targets.map((f) => f + start) };
}

/** A window's sample order: [inputs…, targets…]. */
export function windowOrder(win: ViewWindow): number[] {
  return [...win.inputs, ...win.targets];
}

/** Every window (`clipWindows`) of every clip as one sample: the clip, repeated per window, and the window's order. */
export function clipSamples<S extends Scene>(clips: readonly S[], views: number): { scenes: S[]; orders: number[][] } {
  const scenes: S[] = [];
  const orders: number[][] = [];
  for (const clip of clips) {
    for (const win of clipWindows(clip.frames.length, views)) {
      scenes.push(clip);
      orders.push(windowOrder(win));
    }
  }
  return { scenes, orders };
}

/** The observed images of frames `order` of `scene`, in that order: one sample [v, 3, h, w]. */
export function packImages(scene: Scene, order: readonly number[]): Float32Array {
  const img = 3 * scene.h * scene.w;
  const x = new Float32Array(order.length * img);
  order.forEach((f, j) => x.set(scene.frames[f]!.image, j * img));
  return x;
}

/** Fisher–Yates with the seeded generator; returns a new array. */
export function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** A batch on the host, planar and ready for `np.array(...).reshape(...)`. */
export type HostBatch = {
  /** [b, v, 3, h, w] observed images, views in sample order. */
  images: Float32Array;
  /** [b, v, h, w] ground-truth motion masks (zeros when the scene has none). */
  masks: Float32Array;
  /** [b, v, 3, h, w] clean static images (the observed image when the scene has none). */
  statics: Float32Array;
  /** Frame indices used, per sample, in sample order. */
  frames: number[][];
  /**
   * Ground-truth cameras in the model's form, when every frame has one: c2w relative to the sample's first view
   * [b, v, 4, 4] and normalised intrinsics [b, v, 4]. Only for the labelled `--pose-warmup` ablation and evaluation.
   */
  cameras?: { c2w: Float32Array; fxfycxcy: Float32Array };
  shape: [number, number, number, number, number];
};

/** Packs the frames `order[i]` of `scenes[i]` into one batch. All scenes must share the size. */
export function packBatch(scenes: readonly Scene[], orders: readonly (readonly number[])[]): HostBatch {
  const b = scenes.length;
  const v = orders[0]!.length;
  const { h, w } = scenes[0]!;
  const px = h * w;
  const images = new Float32Array(b * v * 3 * px);
  const statics = new Float32Array(b * v * 3 * px);
  const masks = new Float32Array(b * v * px);
  scenes.forEach((scene, i) => {
    if (scene.h !== h || scene.w !== w) throw new Error(`scene ${scene.name} is ${scene.h}×${scene.w}, the batch is ${h}×${w}`);
    orders[i]!.forEach((f, j) => {
      const frame = scene.frames[f]!;
      const slot = i * v + j;
      images.set(frame.image, slot * 3 * px);
      statics.set(frame.static ?? frame.image, slot * 3 * px);
      if (frame.mask) for (let p = 0; p < px; p++) masks[slot * px + p] = frame.mask[p]!;
    });
  });
  const withCams = scenes.every((s, i) => orders[i]!.every((f) => s.frames[f]!.camera));
  let cameras: HostBatch["cameras"];
  if (withCams) {
    const c2w = new Float32Array(b * v * 16);
    const fxfycxcy = new Float32Array(b * v * 4);
    scenes.forEach((scene, i) => {
      const inv0 = rigidInverse(scene.frames[orders[i]![0]!]!.camera!.c2w);
      orders[i]!.forEach((f, j) => {
        const cam = scene.frames[f]!.camera!;
        c2w.set(mat4Mul(inv0, cam.c2w), (i * v + j) * 16);
        const k = cam.fxfycxcy;
        fxfycxcy.set([k[0] / w, k[1] / h, k[2] / w, k[3] / h], (i * v + j) * 4);
      });
    });
    cameras = { c2w, fxfycxcy };
  }
  return { images, masks, statics, frames: orders.map((o) => [...o]), shape: [b, v, 3, h, w], ...(cameras ? { cameras } : {}) };
}
