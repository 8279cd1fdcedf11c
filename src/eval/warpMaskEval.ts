/**
 * Measuring full-frame pseudo-masks (src/pipeline/frameMasks.ts) against true masks: on synthetic dynamic scenes
 * made video-like and on real clips with masks. Synthetic scenes come from the generator with their frames
 * densified: between consecutive generated frames, `sub − 1` frames are rendered at intermediate times with the
 * camera interpolated (rotation slerp, centre lerp) and the movers where they are at that time, so a clip moves at
 * a video-like rate (the generator's own frames are 0.15–0.35 s apart) and a neighbour spacing measured here means
 * the same on footage. The camera paths that keep a homography meaningful are `pan` (rotation and a small drift)
 * and `jitter` (random look-around: rotations with 0.1–0.3 m of translation, where parallax shows).
 */
import type { SynthConfig } from "../data/config.ts";
import { makeSceneSpec, renderSpec, type SceneSpec } from "../data/synth/index.ts";
import { mat3FromQuat, quatFromMat3, quatSlerp } from "../geometry/rotations.ts";
import { lerp3, mat4FromRt, mat4Rotation, mat4Translation } from "../geometry/mat4.ts";
import { maskIou } from "../masks/pipeline.ts";
import type { FrameStack } from "../pipeline/staticRenderer.ts";

/** `spec` with `sub − 1` interpolated frames between each pair of consecutive frames (header). */
export function densifySpec(spec: SceneSpec, sub: number): SceneSpec {
  if (sub <= 1) return spec;
  const times: number[] = [];
  const cameras: SceneSpec["cameras"] = [];
  for (let i = 0; i < spec.times.length - 1; i++) {
    const [a, b] = [spec.cameras[i]!, spec.cameras[i + 1]!];
    const [qa, qb] = [quatFromMat3(mat4Rotation(a.c2w)), quatFromMat3(mat4Rotation(b.c2w))];
    for (let j = 0; j < sub; j++) {
      const s = j / sub;
      times.push(spec.times[i]! + s * (spec.times[i + 1]! - spec.times[i]!));
      const c2w = mat4FromRt(mat3FromQuat(quatSlerp(qa, qb, s)), lerp3(mat4Translation(a.c2w), mat4Translation(b.c2w), s));
      cameras.push({ c2w: [...c2w], fxfycxcy: [...a.fxfycxcy] });
    }
  }
  times.push(spec.times[spec.times.length - 1]!);
  cameras.push(spec.cameras[spec.cameras.length - 1]!);
  return { ...spec, times, cameras };
}

/** A video-like synthetic clip (header): frames, clean static frames and true masks. */
export function synthVideo(seed: number, cfg: SynthConfig, sub: number): { clip: FrameStack; statics: Float32Array[]; truth: Uint8Array[] } {
  const scene = renderSpec(densifySpec(makeSceneSpec(seed, cfg), sub), cfg);
  return {
    clip: { frames: scene.frames.map((f) => f.image), h: scene.h, w: scene.w },
    statics: scene.frames.map((f) => f.static),
    truth: scene.frames.map((f) => f.mask),
  };
}

/** Mean of per-frame IoUs (frames with an empty truth and an empty mask count 1). */
export function meanFrameIou(masks: readonly Uint8Array[], truth: readonly Uint8Array[]): number {
  return masks.reduce((a, m, j) => a + maskIou(m, truth[j]!), 0) / masks.length;
}

/** How a method turns a clip into masks (1 = moving) for every frame. */
export type ClipMasker = (clip: FrameStack) => Promise<Uint8Array[]>;

/**
 * Mean IoU of each method over the frames of held-out synthetic video clips (seeds from HELD_OUT_SEED_START +
 * `offset`; `seeds` overrides), `sub` as in `synthVideo` (jitter paths have no order to densify: sub 1). Also ms per
 * frame per method.
 */
export async function evaluateSynthMasks(
  cfg: SynthConfig,
  methods: Record<string, ClipMasker>,
  opts: { seeds: readonly number[]; sub: number; onScene?: (i: number) => void },
): Promise<Record<string, { miou: number; frames: number; msPerFrame: number }>> {
  const sums = Object.fromEntries(Object.keys(methods).map((k) => [k, { iou: 0, frames: 0, ms: 0 }]));
  for (const [i, seed] of opts.seeds.entries()) {
    const { clip, truth } = synthVideo(seed, cfg, cfg.path === "jitter" ? 1 : opts.sub);
    for (const [k, m] of Object.entries(methods)) {
      const t0 = performance.now();
      const masks = await m(clip);
      sums[k]!.ms += performance.now() - t0;
      sums[k]!.iou += meanFrameIou(masks, truth) * truth.length;
      sums[k]!.frames += truth.length;
    }
    opts.onScene?.(i);
  }
  return Object.fromEntries(Object.entries(sums).map(([k, s]) => [k, { miou: s.iou / s.frames, frames: s.frames, msPerFrame: s.ms / s.frames }]));
}
