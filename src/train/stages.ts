/**
 * The training stages as data (docs/METHOD.md §8). Each stage says what it is (`stage`,
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
import { featureMaps, makeMotionPass, makeStaticPass, motionProbabilities } from "../pipeline/motion.ts";
import { tokenKeep } from "../model/maskedTokens.ts";
import type { HostBatch } from "../data/sampling.ts";
import { copyPaste, DEFAULT_COPY_PASTE, synthSegments, type Segment } from "../data/copyPaste.ts";
import type { SynthConfig } from "../data/config.ts";
import { makeRng } from "../engine/rng.ts";
import { trainSeedBase } from "./config.ts";
import { pseudoLabels, MASK_TAP } from "../pipeline/pseudoLabels.ts";
import { evaluateStage1, type EvalReport } from "../eval/evaluate.ts";
import { psnrHost } from "../eval/metrics.ts";
import { evaluateMotionMasks } from "../eval/motionEval.ts";
import { bceWithLogits } from "./losses.ts";
import type { RunConfig } from "./config.ts";
import { trainBatch, trainSamples } from "./batches.ts";
import { renderedViews, stage1Loss, stage3Loss, type Stage1Batch, type Stage3Batch } from "./step.ts";

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

/** One training sample's stage-2 inputs on the host (its t targets), computed once per sample. */
type Sample = { features: Float32Array; imageTokens: Float32Array; rayTokens: Float32Array; labels: Float32Array; keep: Float32Array };

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
  const cache = new Map<number, Sample>();

  /** The frozen pass, the labels and the features of training samples `indices` (params not consumed). */
  const makeSamples = async (indices: readonly number[], params: RayZerParams): Promise<{ samples: Sample[]; phases: Record<string, number> }> => {
    const host = trainSamples(run, indices, clips);
    const [b, v, , h, w] = host.shape;
    const img = 3 * h * w;
    const t0 = performance.now();
    const [rendersA, imageTokensA, rayTokensA] = pass(ref(params), np.array(host.images).reshape(host.shape)) as JArray[];
    const [renders, imageTokens, rayTokens] = (await Promise.all([rendersA!.data(), imageTokensA!.data(), rayTokensA!.data()])) as Float32Array[];
    const t1 = performance.now();
    const targetImages = new Float32Array(b * t * img);
    const samples: Sample[] = [];
    const tok = imageTokens!.length / b;
    for (let i = 0; i < b; i++) {
      const targets = Array.from({ length: t }, (_, j) => host.images.slice((i * v + k + j) * img, (i * v + k + j + 1) * img));
      const statics = Array.from({ length: t }, (_, j) => renders!.slice((i * t + j) * img, (i * t + j + 1) * img));
      targets.forEach((x, j) => targetImages.set(x, (i * t + j) * img));
      let masks: ArrayLike<number>[];
      if (m.labels === "oracle") masks = Array.from({ length: t }, (_, j) => host.masks.subarray((i * v + k + j) * h * w, (i * v + k + j + 1) * h * w));
      else masks = (await pseudoLabels(fx, MASK_TAP, targets, statics, h, w, options)).masks;
      const labels = new Float32Array(t * h * w);
      masks.forEach((mask, j) => labels.set(mask, j * h * w));
      const keep = Float32Array.from(statics, (st, j) => (psnrHost(st, targets[j]!) >= m.psnrFilter ? 1 : 0));
      samples.push({ labels, keep, imageTokens: imageTokens!.slice(i * tok, (i + 1) * tok), rayTokens: rayTokens!.slice(i * tok, (i + 1) * tok), features: new Float32Array(0) });
    }
    const t2 = performance.now();
    const feats = (await featureMaps(fx, MASK_TAP, targetImages, b * t, h, w, mc.featureChannels, m.features).data()) as Float32Array;
    const per = feats.length / b;
    samples.forEach((smp, i) => (smp.features = feats.slice(i * per, (i + 1) * per)));
    return { samples, phases: { render: Math.round(t1 - t0), labels: Math.round(t2 - t1), samples: b } };
  };
  return {
    stage: 2,
    name: "motion",
    banner:
      `stage 2: motion-estimator distillation; RayZer frozen (from ${m.from}); labels: ${m.labels === "oracle" ? "ORACLE (the generator's true masks; a labelled ablation)" : `pseudo-masks from the frozen renderer (${m.pseudo} settings)`}` +
      `; features ${m.features ? "on" : "off (zeros)"}; PSNR filter ${m.psnrFilter} dB`,
    frozen: (name) => !name.startsWith("motion."),
    batch: async (step, params) => {
      const b = run.train.batch;
      // sample indices of this step; with a pool they repeat, and each sample's labels are computed once (the
      // RayZer is frozen, so a sample's renders, tokens and labels never change: the official code caches too)
      const indices = Array.from({ length: b }, (_, i) => (m.pool > 0 ? (step * b + i) % m.pool : step * b + i));
      const missing = [...new Set(indices.filter((j) => !cache.has(j)))];
      const fresh = new Map<number, Sample>();
      let phases: Record<string, number> | undefined;
      if (missing.length > 0) {
        const made = await makeSamples(missing, params);
        phases = made.phases;
        missing.forEach((j, i) => (m.pool > 0 ? cache : fresh).set(j, made.samples[i]!));
      }
      const got = indices.map((j) => cache.get(j) ?? fresh.get(j)!);
      const cat = (key: keyof Sample) => {
        const parts = got.map((e) => e[key]);
        const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
        let o = 0;
        for (const p of parts) {
          out.set(p, o);
          o += p.length;
        }
        return out;
      };
      const { h, w } = { h: model.imageSize, w: model.imageSize };
      const n = (h / model.patch) ** 2;
      const g = h / MASK_TAP.stride;
      const batch: Stage2Batch = {
        features: np.array(cat("features")).reshape([b, t, mc.featureChannels, g, g]),
        imageTokens: np.array(cat("imageTokens")).reshape([b, t, n, model.d]),
        rayTokens: np.array(cat("rayTokens")).reshape([b, t, n, model.d]),
        labels: np.array(cat("labels")).reshape([b, t, h, w]),
        keep: np.array(cat("keep")).reshape([b, t]),
      };
      return phases ? { batch, phases } : { batch };
    },
    variant: () => "bce",
    loss: () => (p, batch) => {
      const { motion, ...rest } = p;
      dispose(rest); // frozen: the loss reads only the motion estimator
      const logits = motionLogits(motion!, batch.features, batch.imageTokens, batch.rayTokens, model);
      return bceWithLogits(logits, batch.labels, batch.keep, m.positiveWeight);
    },
    evaluate: async (params) => (clips ? undefined : { maskEval: await evaluateMotionMasks(params, model, { ...run.data }, fx, MASK_TAP, { scenes: run.train.evalScenes }) }),
    dispose: () => pass.dispose(),
  };
}

/** Segments pasted in stage 3 come from the movers of this many generated scenes, seeds reserved in the run's block. */
const PASTE_POOL_SCENES = 64;
const PASTE_POOL_OFFSET = 900_000;

/**
 * Copy-paste on step `step`'s host batch (src/data/copyPaste.ts, docs/METHOD.md §9): sample i draws from its own
 * seeded generator whether and what to paste, from a pool of mover segments of generated scenes whose seeds are
 * reserved in the run's seed block (never training samples). Returns the pasted images and the per-view paste
 * masks [b, v, h, w], or null when copy-paste is off.
 */
function makePaster(run: RunConfig): ((step: number, host: HostBatch) => { images: Float32Array; masks: Float32Array }) | null {
  const p = run.masked?.copyPaste ?? 0;
  if (p === 0) return null;
  const cfg = { ...DEFAULT_COPY_PASTE, probability: p };
  let pool: Segment[] | null = null;
  return (step, host) => {
    pool ??= Array.from({ length: PASTE_POOL_SCENES }, (_, j) => synthSegments(trainSeedBase(run.train) + PASTE_POOL_OFFSET + j, { ...run.data, size: host.shape[3] as SynthConfig["size"] })).flat();
    const [b, v, , h, w] = host.shape;
    const per = v * 3 * h * w;
    const images = new Float32Array(host.images.length);
    const masks = new Float32Array(b * v * h * w);
    for (let i = 0; i < b; i++) {
      const rng = makeRng((trainSeedBase(run.train) + step * b + i) ^ 0xc0ffee);
      const out = copyPaste(rng, host.images.subarray(i * per, (i + 1) * per), v, h, w, pool, cfg);
      images.set(out.images, i * per);
      masks.set(out.masks, i * v * h * w);
    }
    return { images, masks };
  };
}

/**
 * Stage 3, masked reconstruction: everything but the motion estimator trains on the rendering loss of the targets,
 * with each input view's dynamic tokens replaced before the scene encoder (src/model/maskedTokens.ts) and each
 * rendered view's dynamic pixels gated out of the loss. The dynamic maps come from the frozen motion estimator run
 * on the current model (`masks: "motion"`), the generator's true masks (`oracle`, an upper bound) or nowhere
 * (`none`); pasted movers (copy-paste) always mask their input tokens, and the loss target is the image before
 * pasting, so a pasted mover is never gated: the renderer must learn to leave it out.
 */
export function stage3(run: RunConfig, clips: readonly Scene[] | null, fx: FeatureExtractor | null): StageDef<Stage3Batch> {
  const ms = run.masked;
  const model = run.model;
  if (!ms) throw new Error("stage3: the run has no masked settings");
  if (ms.masks === "motion" && (!model.motion || !fx)) throw new Error("stage3: masks from the motion estimator need a model with one and the feature extractor");
  if (run.train.perceptualWeight > 0 && !fx) throw new Error("stage3: train.perceptualWeight > 0 needs the feature extractor");
  if (ms.masks === "oracle" && clips) throw new WildrayzerError("stage 3 --masks oracle: footage has no true masks to train with; use --masks motion");
  const k = model.inputViews;
  const render = renderedViews(run, false);
  // the estimator runs on the views whose maps are used: the inputs (token masks) and the rendered targets (gate)
  const mapped = [...Array.from({ length: k }, (_, i) => i), ...render];
  const pass = ms.masks === "motion" ? makeMotionPass(model, mapped) : null;
  const paster = makePaster(run);
  const source = { motion: "the frozen motion estimator", oracle: "ORACLE (the generator's true masks; a labelled upper bound)", none: "none (no scene masks)" }[ms.masks];
  return {
    stage: 3,
    name: "masked",
    banner:
      `stage 3: masked reconstruction from ${ms.from}; dynamic maps: ${source}; tokens above ${ms.tokenThreshold} replaced (${model.maskedTokens === "noiseToken" ? "learned noise token" : "zeros"})` +
      `; loss ${ms.gate ? `gated above ${ms.gateThreshold}` : "not gated"}; copy-paste ${ms.copyPaste > 0 ? `p = ${ms.copyPaste}` : "off"}; motion estimator frozen`,
    frozen: (name) => name.startsWith("motion."),
    batch: async (step, params) => {
      const host = trainBatch(run, step, clips);
      const [b, v, , h, w] = host.shape;
      const px = h * w;
      const img = 3 * px;
      const t0 = performance.now();
      const pasted = paster ? paster(step, host) : null;
      const images = pasted?.images ?? host.images;
      const t1 = performance.now();
      let dyn: Float32Array | null = null; // [b, v, h, w] the scene's own dynamic map
      if (ms.masks === "motion") {
        const probs = await motionProbabilities(pass!, params, model, fx!, MASK_TAP, images, host.shape); // [b, |mapped|, h, w]
        dyn = new Float32Array(b * v * px);
        for (let i = 0; i < b; i++) mapped.forEach((x, j) => dyn!.set(probs.subarray((i * mapped.length + j) * px, (i * mapped.length + j + 1) * px), (i * v + x) * px));
      } else if (ms.masks === "oracle") dyn = host.masks;
      const t2 = performance.now();
      const paste = pasted?.masks;
      const inputMaps = new Float32Array(b * k * px);
      const gate = new Float32Array(b * render.length * px).fill(1);
      const targets = new Float32Array(b * render.length * img);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < k; j++) {
          const at = (i * v + j) * px;
          for (let q = 0; q < px; q++) inputMaps[(i * k + j) * px + q] = Math.max(dyn ? dyn[at + q]! : 0, paste ? paste[at + q]! : 0);
        }
        render.forEach((slot, r) => {
          const at = (i * v + slot) * px;
          const out = (i * render.length + r) * px;
          targets.set(host.images.subarray((i * v + slot) * img, (i * v + slot + 1) * img), (i * render.length + r) * img);
          if (!ms.gate || !dyn) return;
          // a pasted pixel is never gated: the target there is the image before pasting
          for (let q = 0; q < px; q++) if (dyn[at + q]! > ms.gateThreshold && !(paste && paste[at + q]! > 0)) gate[out + q] = 0;
        });
      }
      const keep = tokenKeep(inputMaps, b * k, h, w, model.patch, ms.tokenThreshold);
      const n = keep.length / (b * k);
      const batch: Stage3Batch = {
        images: np.array(images).reshape(host.shape),
        targets: np.array(targets).reshape([b, render.length, 3, h, w]),
        keep: np.array(keep).reshape([b, k, n]),
        gate: np.array(gate).reshape([b, render.length, h, w]),
      };
      const dropped = keep.reduce((s, x) => s + (1 - x), 0) / keep.length;
      const gated = gate.reduce((s, x) => s + (1 - x), 0) / gate.length;
      return { batch, phases: { paste: Math.round(t1 - t0), masks: Math.round(t2 - t1), droppedTokensPct: Math.round(100 * dropped), gatedPixelsPct: Math.round(100 * gated) } };
    },
    variant: () => "masked",
    loss: () => (p, b) => stage3Loss(p, b, run, fx),
    evaluate: async (params) =>
      clips ? undefined : { eval: await evaluateStage1(params, model, run.data, { scenes: run.train.evalScenes, tokenMasks: ms.masks, ...(fx ? { features: fx } : {}) }) },
    dispose: () => pass?.dispose(),
  };
}
