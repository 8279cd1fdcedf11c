/**
 * How well the motion estimator finds the movers: on held-out synthetic dynamic scenes (seeds from the held-out
 * range, the same samples for every model), the binarised estimator output of every view against the generator's
 * true motion mask, mean IoU over views.
 */
import { HELD_OUT_SEED_START, type SynthConfig } from "../data/config.ts";
import { packBatch } from "../data/sampling.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { makeMotionPass, motionProbabilities, MOTION_THRESHOLD } from "../pipeline/motion.ts";
import { meanIou, type MaskTap } from "../pipeline/pseudoLabels.ts";
import { heldOutSamples } from "./evaluate.ts";

export type MotionMaskReport = { maskIou: number; frames: number };

/** Mean IoU of the estimator's masks on `scenes` held-out scenes of `data` (which must have movers). Params not consumed. */
export async function evaluateMotionMasks(
  params: RayZerParams,
  model: ModelConfig,
  data: SynthConfig,
  fx: FeatureExtractor,
  tap: MaskTap,
  opts: { scenes: number; batch?: number; threshold?: number; offset?: number },
): Promise<MotionMaskReport> {
  const seeds = Array.from({ length: opts.scenes }, (_, i) => HELD_OUT_SEED_START + (opts.offset ?? 30_000) + i);
  const batch = opts.batch ?? 4;
  const pass = makeMotionPass(model);
  const thr = opts.threshold ?? MOTION_THRESHOLD;
  let sum = 0;
  let frames = 0;
  try {
    for (let s = 0; s < seeds.length; s += batch) {
      const { scenes, orders } = heldOutSamples(seeds.slice(s, s + batch), data, model);
      const host = packBatch(scenes, orders);
      const [b, v, , h, w] = host.shape;
      const probs = await motionProbabilities(pass, params, model, fx, tap, host.images, host.shape);
      const px = h * w;
      const masks = Array.from({ length: b * v }, (_, j) => Uint8Array.from(probs.subarray(j * px, (j + 1) * px), (q) => (q > thr ? 1 : 0)));
      const truth = Array.from({ length: b * v }, (_, j) => Uint8Array.from(host.masks.subarray(j * px, (j + 1) * px)));
      sum += meanIou(masks, truth) * masks.length;
      frames += masks.length;
    }
  } finally {
    pass.dispose();
  }
  return { maskIou: sum / frames, frames };
}
