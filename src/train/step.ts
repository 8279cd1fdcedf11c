/**
 * Stage 1: RayZer pre-training (self-supervised; no pose or mask labels). Trains everything: tokenizer, camera
 * estimator, scene encoder, renderer. Loss = MSE(rendered targets, real targets) (+ λ·perceptual once the
 * backbone lands). The jitted step renders the first `targetsPerStep` target slots (the host shuffles which frames
 * sit there, so shapes stay static) and, early on, the input views too.
 */
import type { Array as JArray } from "@jax-js/jax";
import { makeTrainStep, type AdamWConfig, type StepMetrics, type TrainState } from "../engine/optim.ts";
import { renderFromCameras, takeViews, type RayZerParams } from "../model/rayzer.ts";
import { runCameraEstimator, type Cameras } from "../model/cameraEstimator.ts";
import { runTokenizer } from "../model/tokens.ts";
import type { RunConfig, TrainConfig } from "./config.ts";
import { gatedPhotometricLoss, photometricLoss } from "./losses.ts";
import { dispose } from "../engine/params.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";

/** A batch on device; `blend` (the labelled pose warm-up ablation) renders some samples with their true cameras. */
export type Stage1Batch = { images: JArray; blend?: Cameras & { weight: JArray } };
export type Stage1Step = (state: TrainState<RayZerParams>, batch: Stage1Batch) => [TrainState<RayZerParams>, StepMetrics];

/** The AdamW settings of a TrainConfig. */
export function adamwConfig(t: TrainConfig): AdamWConfig {
  return {
    lr: t.lr,
    beta1: t.beta1,
    beta2: t.beta2,
    eps: 1e-8,
    weightDecay: t.weightDecay,
    clipNorm: t.clipNorm,
    warmupSteps: t.warmupSteps,
    totalSteps: t.steps,
    minLrRatio: t.minLrRatio,
  };
}

/** View slots rendered per step: the first `targetsPerStep` targets, plus the inputs when `withInputs`. */
export function renderedViews(run: RunConfig, withInputs: boolean): number[] {
  const k = run.model.inputViews;
  const targets = Array.from({ length: Math.min(run.train.targetsPerStep, run.model.views - k) }, (_, i) => k + i);
  return withInputs ? [...targets, ...Array.from({ length: k }, (_, i) => i)] : targets;
}

/**
 * Stage-1 loss: MSE + λ·perceptual (λ = train.perceptualWeight, with the frozen backbone `fx`). With `batch.blend`
 * (the labelled pose warm-up ablation), the samples of weight 1 are rendered from their true cameras and those of
 * weight 0 from the predicted ones. Consumes `params` and `batch`.
 */
export function stage1Loss(params: RayZerParams, batch: Stage1Batch, run: RunConfig, withInputs: boolean, fx: FeatureExtractor | null = null): JArray {
  const render = renderedViews(run, withInputs);
  const tokens = runTokenizer(params.tokenizer, batch.images.ref, run.model); // [b, v, n, d]
  let cameras = runCameraEstimator(params.cameraEstimator, tokens.ref, run.model);
  if (batch.blend) cameras = blendCameras(cameras, batch.blend);
  const renders = renderFromCameras(params, tokens, cameras, run.model, { render }); // [b, r, 3, h, w]
  return photometricLoss(renders, takeViews(batch.images, render), run.train.perceptualWeight, fx);
}

/**
 * Per sample, `weight` 1 takes the `given` cameras and 0 the `predicted` ones (linear in between).
 * Consumes both; `weight` is [b].
 */
export function blendCameras(predicted: Cameras, given: Cameras & { weight: JArray }): Cameras {
  const wt = given.weight; // [b]
  const [b] = wt.shape as [number];
  const w4 = wt.ref.reshape([b, 1, 1, 1]);
  const w3 = wt.reshape([b, 1, 1]);
  return {
    c2w: predicted.c2w.mul(w4.ref.mul(-1).add(1)).add(given.c2w.mul(w4)),
    fxfycxcy: predicted.fxfycxcy.mul(w3.ref.mul(-1).add(1)).add(given.fxfycxcy.mul(w3)),
  };
}

/**
 * The jitted stage-1 steps: plain, and with the inputs rendered as extra targets. (A batch with `blend` traces
 * its own version of either on first use: jit specialises on the batch's structure.)
 */
export function makeStage1Steps(run: RunConfig, opts: { jit?: boolean; features?: FeatureExtractor | null } = {}): { plain: Stage1Step; withInputs: Stage1Step } {
  const cfg = adamwConfig(run.train);
  const fx = opts.features ?? null;
  if (run.train.perceptualWeight > 0 && !fx) throw new Error("makeStage1Steps: train.perceptualWeight > 0 needs the feature extractor");
  const jitOpts = { jit: opts.jit };
  return {
    plain: makeTrainStep((p: RayZerParams, b: Stage1Batch) => stage1Loss(p, b, run, false, fx), cfg, undefined, jitOpts),
    withInputs: makeTrainStep((p: RayZerParams, b: Stage1Batch) => stage1Loss(p, b, run, true, fx), cfg, undefined, jitOpts),
  };
}

/**
 * Stage 3's device batch: the (copy-pasted) images of all views, the clean images of the rendered views, the input
 * views' token keep-mask and the rendered views' loss gate (src/train/stages.ts makes them on the host).
 */
export type Stage3Batch = {
  /** [b, v, 3, h, w] what the network sees (with pasted movers). */
  images: JArray;
  /** [b, r, 3, h, w] the loss targets of the rendered views: the images before pasting. */
  targets: JArray;
  /** [b, k, n] 1 = static token kept. */
  keep: JArray;
  /** [b, r, h, w] 1 = static pixel, counted in the loss. */
  gate: JArray;
};

/**
 * The stage-3 loss (masked reconstruction): the RayZer of stage 1 with the input views' dynamic tokens replaced
 * before the scene encoder and the rendered views' dynamic pixels gated out of MSE + λ·perceptual. The motion
 * estimator is not read (frozen; its masks came in with the batch). Consumes `params` and `batch`.
 */
export function stage3Loss(params: RayZerParams, batch: Stage3Batch, run: RunConfig, fx: FeatureExtractor | null = null): JArray {
  const { motion, ...rest } = params;
  if (motion) dispose(motion);
  const tokens = runTokenizer(rest.tokenizer, batch.images, run.model); // [b, v, n, d]
  const cameras = runCameraEstimator(rest.cameraEstimator, tokens.ref, run.model);
  const renders = renderFromCameras(rest, tokens, cameras, run.model, { render: renderedViews(run, false), keep: batch.keep }); // [b, r, 3, h, w]
  return gatedPhotometricLoss(renders, batch.targets, batch.gate, run.train.perceptualWeight, fx);
}
