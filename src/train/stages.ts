/**
 * The training stages as data (docs/METHOD.md, "Three-stage training"). Each stage says what it is (`stage`,
 * `name`, `banner`: printed at the start and stored in the checkpoint), which parameters it leaves untouched
 * (`frozen`), how step `step`'s batch is made (`batch`: a pure function of the run, the step and the data, so a
 * resumed run sees exactly the batches it would have seen), which loss variant a step uses and the loss itself,
 * and what to evaluate periodically. src/train/loop.ts runs any of them.
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { dispose, ref, type ParamTree } from "../engine/params.ts";
import type { Scene } from "../data/scene.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { Stage } from "../model/load.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { DEFAULT_PSEUDO, OFFICIAL_PSEUDO } from "../masks/pipeline.ts";
import { motionLogits } from "../model/wildrayzer.ts";
import { featureMaps, makeStaticPass } from "../pipeline/motion.ts";
import { pseudoLabels, MASK_TAP } from "../pipeline/pseudoLabels.ts";
import { evaluateStage1, type EvalReport } from "../eval/evaluate.ts";
import { psnrHost } from "../eval/metrics.ts";
import { evaluateMotionMasks } from "../eval/motionEval.ts";
import { bceWithLogits } from "./losses.ts";
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

/** Stage 2's device batch: the targets' frozen-backbone features, image and ray tokens, labels and keep weights. */
export type Stage2Batch = { features: JArray; imageTokens: JArray; rayTokens: JArray; labels: JArray; keep: JArray };

/**
 * Stage 2, motion-estimator distillation: the RayZer is frozen; per step its static renderings of the targets go
 * through the pseudo-mask pipeline on the host (or, for the labelled `oracle` ablation, the generator's true masks
 * are the labels), and BCE-with-logits trains the motion estimator on the targets whose rendering reaches the PSNR
 * filter. The estimator reads the targets' features, image tokens and ray tokens only (never the renderings).
 */
export function stage2(run: RunConfig, clips: readonly Scene[] | null, fx: FeatureExtractor): StageDef<Stage2Batch> {
  const m = run.motion;
  const model = run.model;
  if (!m || !model.motion) throw new Error("stage2: the run has no motion settings or the model no motion estimator");
  const mc = model.motion;
  const k = model.inputViews;
  const t = model.views - k;
  const pass = makeStaticPass(model);
  const options = m.pseudo === "official" ? OFFICIAL_PSEUDO : DEFAULT_PSEUDO;
  return {
    stage: 2,
    name: "motion",
    banner:
      `stage 2: motion-estimator distillation; RayZer frozen (from ${m.from}); labels: ${m.labels === "oracle" ? "ORACLE (the generator's true masks; a labelled ablation)" : `pseudo-masks from the frozen renderer (${m.pseudo} settings)`}` +
      `; features ${m.features ? "on" : "off (zeros)"}; PSNR filter ${m.psnrFilter} dB`,
    frozen: (name) => !name.startsWith("motion."),
    batch: async (step, params) => {
      const host = trainBatch(run, step, clips);
      const [b, v, , h, w] = host.shape;
      const img = 3 * h * w;
      const t0 = performance.now();
      const [rendersA, imageTokens, rayTokens] = pass(ref(params), np.array(host.images).reshape(host.shape)) as JArray[];
      const renders = (await rendersA!.data()) as Float32Array;
      const t1 = performance.now();
      const labels = new Float32Array(b * t * h * w);
      const keep = new Float32Array(b * t);
      const targetImages = new Float32Array(b * t * img);
      for (let i = 0; i < b; i++) {
        const targets = Array.from({ length: t }, (_, j) => host.images.subarray((i * v + k + j) * img, (i * v + k + j + 1) * img));
        const statics = Array.from({ length: t }, (_, j) => renders.subarray((i * t + j) * img, (i * t + j + 1) * img));
        targets.forEach((x, j) => targetImages.set(x, (i * t + j) * img));
        let masks: ArrayLike<number>[];
        if (m.labels === "oracle") masks = Array.from({ length: t }, (_, j) => host.masks.subarray((i * v + k + j) * h * w, (i * v + k + j + 1) * h * w));
        else masks = (await pseudoLabels(fx, MASK_TAP, targets.map((x) => Float32Array.from(x)), statics.map((x) => Float32Array.from(x)), h, w, options)).masks;
        masks.forEach((mask, j) => labels.set(mask, (i * t + j) * h * w));
        statics.forEach((s, j) => (keep[i * t + j] = psnrHost(s, targets[j]!) >= m.psnrFilter ? 1 : 0));
      }
      const t2 = performance.now();
      const feats = featureMaps(fx, MASK_TAP, targetImages, b * t, h, w, mc.featureChannels, m.features);
      const [, c, gh, gw] = feats.shape as [number, number, number, number];
      const batch: Stage2Batch = {
        features: feats.reshape([b, t, c, gh, gw]),
        imageTokens: imageTokens!,
        rayTokens: rayTokens!,
        labels: np.array(labels).reshape([b, t, h, w]),
        keep: np.array(keep).reshape([b, t]),
      };
      return { batch, phases: { render: Math.round(t1 - t0), labels: Math.round(t2 - t1) } };
    },
    variant: () => "bce",
    loss: () => (p, batch) => {
      const { motion, ...rest } = p;
      dispose(rest); // frozen: the loss reads only the motion estimator
      const logits = motionLogits(motion!, batch.features, batch.imageTokens, batch.rayTokens, model);
      return bceWithLogits(logits, batch.labels, batch.keep);
    },
    evaluate: async (params) => (clips ? undefined : { maskEval: await evaluateMotionMasks(params, model, { ...run.data }, fx, MASK_TAP, { scenes: run.train.evalScenes }) }),
    dispose: () => pass.dispose(),
  };
}
