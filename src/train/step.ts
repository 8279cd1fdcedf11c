/**
 * Stage 1: RayZer pre-training (self-supervised; no pose or mask labels). Trains everything: tokenizer, camera
 * estimator, scene encoder, renderer. Loss = MSE(rendered targets, real targets) (+ λ·perceptual once the
 * backbone lands). The jitted step renders the first `targetsPerStep` target slots (the host shuffles which frames
 * sit there, so shapes stay static) and, early on, the input views too.
 */
import type { Array as JArray } from "@jax-js/jax";
import { makeTrainStep, type AdamWConfig, type StepMetrics, type TrainState } from "../engine/optim.ts";
import { dispose } from "../engine/params.ts";
import { runRayZer, takeViews, type RayZerParams } from "../model/rayzer.ts";
import type { Cameras } from "../model/cameraEstimator.ts";
import type { RunConfig, TrainConfig } from "./config.ts";
import { mse } from "./losses.ts";

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

/** Stage-1 loss. Consumes `params` and `batch`. */
export function stage1Loss(params: RayZerParams, batch: Stage1Batch, run: RunConfig, withInputs: boolean): JArray {
  const render = renderedViews(run, withInputs);
  const out = runRayZer(params, batch.images.ref, run.model, { render, ...(batch.blend ? { blend: batch.blend } : {}) });
  dispose(out.cameras);
  return mse(out.renders, takeViews(batch.images, render));
}

/**
 * The jitted stage-1 steps: plain, and with the inputs rendered as extra targets. (A batch with `blend` traces
 * its own version of either on first use: jit specialises on the batch's structure.)
 */
export function makeStage1Steps(run: RunConfig, opts: { jit?: boolean } = {}): { plain: Stage1Step; withInputs: Stage1Step } {
  const cfg = adamwConfig(run.train);
  return {
    plain: makeTrainStep((p: RayZerParams, b: Stage1Batch) => stage1Loss(p, b, run, false), cfg, undefined, opts),
    withInputs: makeTrainStep((p: RayZerParams, b: Stage1Batch) => stage1Loss(p, b, run, true), cfg, undefined, opts),
  };
}
