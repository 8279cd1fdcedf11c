/**
 * The training stages as data (docs/METHOD.md, "Three-stage training"). Each stage says what it is (`stage`,
 * `name`, `banner`: printed at the start and stored in the checkpoint), which parameters it leaves untouched
 * (`frozen`), how step `step`'s batch is made (`batch`: a pure function of the run, the step and the data, so a
 * resumed run sees exactly the batches it would have seen), which loss variant a step uses and the loss itself,
 * and what to evaluate periodically. src/train/loop.ts runs any of them.
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import type { ParamTree } from "../engine/params.ts";
import type { Scene } from "../data/scene.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { Stage } from "../model/load.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { evaluateStage1, type EvalReport } from "../eval/evaluate.ts";
import type { RunConfig } from "./config.ts";
import { trainBatch } from "./batches.ts";
import { stage1Loss, type Stage1Batch } from "./step.ts";

/** A stage's periodic evaluation: the stage-1 report (`eval`) and/or the motion estimator's mask quality. */
export type StageEval = { eval?: EvalReport; maskEval?: { maskIou: number; frames: number } };

export type StageDef<B extends ParamTree> = {
  stage: Stage;
  name: string;
  banner: string;
  /** Parameter names (dotted) this stage does not update; undefined: it trains everything. */
  frozen?: (name: string) => boolean;
  /** Step `step`'s device batch (consumed by the step) and the host phases' times. `params` is not consumed. */
  batch(step: number, params: RayZerParams): Promise<{ batch: B; phases?: Record<string, number> }>;
  /** The loss variant of step `step` (each variant is jitted once). */
  variant(step: number): string;
  loss(variant: string): (params: RayZerParams, batch: B) => JArray;
  evaluate?(params: RayZerParams): Promise<StageEval | undefined>;
  dispose?(): void;
};

/**
 * Stage 1, RayZer pretraining: everything trains on the rendering loss of the targets (MSE + λ·perceptual), the
 * inputs rendered as extra targets for the first `renderInputsUntil` steps; with `poseWarmupSteps` (a labelled
 * ablation) part of each early batch is rendered from the generator's true cameras.
 */
export function stage1(run: RunConfig, clips: readonly Scene[] | null, features: FeatureExtractor | null): StageDef<Stage1Batch> {
  if (run.train.perceptualWeight > 0 && !features) throw new Error("stage1: train.perceptualWeight > 0 needs the feature extractor");
  return {
    stage: 1,
    name: "rayzer",
    banner: "stage 1: RayZer pretraining, self-supervised (rendering loss on the targets; no pose or mask labels)",
    batch: async (step) => {
      const host = trainBatch(run, step, clips);
      const batch: Stage1Batch = { images: np.array(host.images).reshape(host.shape) };
      if (step < run.train.poseWarmupSteps) {
        if (!host.cameras) throw new WildrayzerError("train.poseWarmupSteps: the training scenes have no cameras to warm up with");
        const [b, v] = host.shape;
        const truth = Math.round(run.train.poseWarmupFraction * b);
        batch.blend = {
          c2w: np.array(host.cameras.c2w).reshape([b, v, 4, 4]),
          fxfycxcy: np.array(host.cameras.fxfycxcy).reshape([b, v, 4]),
          weight: np.array(Float32Array.from({ length: b }, (_, i) => (i < truth ? 1 : 0))),
        };
      }
      return { batch };
    },
    variant: (step) => (step < run.train.renderInputsUntil ? "withInputs" : "plain"),
    loss: (variant) => (p, b) => stage1Loss(p, b, run, variant === "withInputs", features),
    // the periodic evaluation uses generated held-out scenes: off when training on footage
    evaluate: async (params) => (clips ? undefined : { eval: await evaluateStage1(params, run.model, run.data, { scenes: run.train.evalScenes }) }),
  };
}
