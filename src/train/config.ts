/**
 * TrainConfig (optimiser, schedule, sampling per step, logging and checkpoint cadence) and RunConfig = { data,
 * model, train }: resolved once (preset, then flags), validated by strict schemas, printed at start and stored in
 * every checkpoint. Stage-1 numbers start from docs/METHOD.md ("Small-model training") best CPU setting (lr 5e-4, warm-up 100, cosine to 0.1×,
 * batch 16, inputs rendered as extra targets for the first 900 steps).
 */
import { z } from "zod";
import { WildrayzerError, formatIssues } from "../engine/errors.ts";
import { SynthConfigSchema, SYNTH_PRESETS, type SynthConfig } from "../data/config.ts";
import { MODEL_PRESETS, ModelConfigSchema, type ModelConfig } from "../model/config.ts";
import { MOTION_PRESETS } from "../model/motionConfig.ts";

export const TrainConfigSchema = z
  .object({
    /** Optimiser steps in total. */
    steps: z.number().int().positive(),
    /** Samples (scenes) per step. */
    batch: z.number().int().positive(),
    lr: z.number().positive(),
    beta1: z.number().min(0).max(1),
    beta2: z.number().min(0).max(1),
    weightDecay: z.number().min(0),
    clipNorm: z.number().min(0),
    warmupSteps: z.number().int().min(0),
    minLrRatio: z.number().min(0).max(1),
    /** Target views rendered per step (≤ views − inputViews); the rest of the targets still inform the cameras. */
    targetsPerStep: z.number().int().positive(),
    /** Also render the input views as targets until this step (docs/METHOD.md ("Small-model training"): helps early learning). */
    renderInputsUntil: z.number().int().min(0),
    /**
     * Labelled ablation, off by default: for the first `poseWarmupSteps` steps, a fraction `poseWarmupFraction`
     * of each batch's samples is rendered with the generator's true cameras instead of the predicted ones.
     */
    poseWarmupSteps: z.number().int().min(0).default(0),
    poseWarmupFraction: z.number().min(0).max(1).default(0.5),
    /** Weight of the perceptual term (docs/METHOD.md §4: 0.2) on the bundled MobileNetV2 features (src/features/perceptual.ts). */
    perceptualWeight: z.number().min(0),
    /** Training scenes use seeds seed·1e6 + step·batch + i (always below the held-out range). */
    seed: z.number().int().min(0).max(999),
    logEvery: z.number().int().positive(),
    ckptEvery: z.number().int().positive(),
    /** Held-out scenes per evaluation. */
    evalScenes: z.number().int().positive(),
    /** Run the held-out evaluation every this many steps and log it to metrics.jsonl (0: never). */
    evalEvery: z.number().int().min(0).default(0), // defaults: checkpoints written before these keys existed still load
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** Stage 1 (RayZer pre-training) on the `small` model, docs/METHOD.md ("Small-model training") best measured setting. */
export const SMALL_TRAIN: TrainConfig = {
  steps: 3600, // docs/METHOD.md ("Small-model training"): 3,000 steps at batch 16 beat both baselines; batch 8 buys ~2× the steps per minute here
  batch: 8,
  lr: 5e-4, // 1e-3 was worse (docs/METHOD.md ("Small-model training"))
  beta1: 0.9,
  beta2: 0.95,
  weightDecay: 0.05,
  clipNorm: 1.0,
  warmupSteps: 100,
  minLrRatio: 0.1,
  targetsPerStep: 2, // 2 inputs + 2 targets per sample (docs/METHOD.md ("Small-model training") study 2)
  renderInputsUntil: 600,
  poseWarmupSteps: 0,
  poseWarmupFraction: 0.5,
  perceptualWeight: 0, // docs/METHOD.md: 0.2; the shipped model was trained before the backbone landed (--set train.perceptualWeight=0.2)
  seed: 0,
  logEvery: 10,
  ckptEvery: 100,
  evalScenes: 32,
  evalEvery: 500,
};

export const TRAIN_PRESETS = {
  tiny: { ...SMALL_TRAIN, steps: 20, batch: 2, warmupSteps: 2, renderInputsUntil: 5, logEvery: 1, ckptEvery: 5, evalScenes: 4, evalEvery: 0 }, // tests
  small: SMALL_TRAIN,
} satisfies Record<string, TrainConfig>;

/**
 * Stage 2 (motion-estimator distillation): where the frozen RayZer comes from and what the estimator learns from.
 */
export const MotionTrainConfigSchema = z
  .object({
    /** The stage-1 checkpoint or model file whose RayZer is frozen (copied in at step 0, stored in the checkpoint). */
    from: z.string().min(1),
    /** pseudo: the pseudo-mask pipeline on the frozen renderer's residuals (the method); oracle: the generator's true masks (a labelled ablation). */
    labels: z.enum(["pseudo", "oracle"]),
    /** Frozen backbone features as an input of the estimator (off: zeros, the "without features" ablation). */
    features: z.boolean(),
    /** A target enters the loss only if its static rendering reaches this PSNR (dB); 0 keeps all. */
    psnrFilter: z.number().min(0),
    /** Pseudo-mask pipeline settings: ours (tuned for small frames) or the official ones. */
    pseudo: z.enum(["ours", "official"]),
    /**
     * Training samples are drawn from a pool of this many (0: a fresh sample every time). The RayZer is frozen, so
     * a sample's renders, tokens and labels are computed once and reused (the official stage 2 caches its masks).
     */
    pool: z.number().int().min(0),
    /** BCE weight of positive (moving) pixels; 1 = the official loss. Movers cover ~10 % of our frames. */
    positiveWeight: z.number().positive(),
  })
  .strict();
export type MotionTrainConfig = z.infer<typeof MotionTrainConfigSchema>;

/**
 * Stage 3 (masked reconstruction, docs/METHOD.md §8): the RayZer trains again, on dynamic
 * scenes, with the dynamic input tokens replaced before the scene encoder and the dynamic target pixels left out of
 * the loss; the motion estimator is frozen. `masks` says where the dynamic maps come from.
 */
export const MaskedTrainConfigSchema = z
  .object({
    /** The stage-2 checkpoint or model file to start from (copied in at step 0, stored in the checkpoint). */
    from: z.string().min(1),
    /**
     * motion: the frozen motion estimator's probabilities (the method); oracle: the generator's true masks (the
     * upper bound, a labelled ablation); none: no masking from the scene itself (only copy-paste masks, if any).
     */
    masks: z.enum(["motion", "oracle", "none"]),
    /** A token is dynamic when the mean dynamic value of its patch exceeds this (official 0.1). */
    tokenThreshold: z.number().min(0).max(1),
    /** A target pixel is gated out of the loss when its dynamic value exceeds this (official 0.1 on σ(logits)). */
    gateThreshold: z.number().min(0).max(1),
    /** Leave the dynamic target pixels out of the loss (off: token masking only). */
    gate: z.boolean(),
    /** Copy-paste augmentation: a sample gets pasted movers with this probability (official 0.8; 0: off). */
    copyPaste: z.number().min(0).max(1),
  })
  .strict();
export type MaskedTrainConfig = z.infer<typeof MaskedTrainConfigSchema>;

export const RunConfigSchema = z
  .object({
    data: SynthConfigSchema,
    model: ModelConfigSchema,
    train: TrainConfigSchema,
    /** Train on the clips of this folder (one clip or a folder of clips) instead of generated scenes. */
    dataDir: z.string().min(1).optional(),
    /** Which training stage this run is (1: RayZer, 2: motion estimator, 3: masked reconstruction). */
    stage: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
    /** Stage-2 settings (only for stage 2). */
    motion: MotionTrainConfigSchema.optional(),
    /** Stage-3 settings (only for stage 3). */
    masked: MaskedTrainConfigSchema.optional(),
  })
  .strict()
  .refine((r) => r.stage !== 2 || (r.motion && r.model.motion), { message: "a stage-2 run needs motion settings and a model with a motion estimator" })
  .refine((r) => r.stage !== 3 || (r.masked && (r.masked.masks !== "motion" || r.model.motion)), { message: "a stage-3 run needs masked settings, and masks from the motion estimator need a model with one" });
export type RunConfig = {
  data: SynthConfig;
  model: ModelConfig;
  train: TrainConfig;
  dataDir?: string;
  stage: 1 | 2 | 3;
  motion?: MotionTrainConfig;
  masked?: MaskedTrainConfig;
};

/** The run presets: `tiny` for tests, `small` for the CPU demo model. */
export const RUN_PRESETS: Record<"tiny" | "small", RunConfig> = {
  tiny: { data: { ...SYNTH_PRESETS.tiny, frames: 6, movers: [0, 0] }, model: MODEL_PRESETS.tiny, train: TRAIN_PRESETS.tiny, stage: 1 },
  small: { data: { ...SYNTH_PRESETS.tiny, frames: 6, movers: [0, 0], path: "mixed" }, model: MODEL_PRESETS.small, train: TRAIN_PRESETS.small, stage: 1 },
};

/**
 * Stage 2 on top of a `tiny` or `small` stage-1 model: only the motion estimator trains (BCE against the
 * pseudo-masks), on dynamic scenes. The official schedule is lr 1e-4, 1,000 warm-up steps of 10,000, batch 16,
 * weight decay 0.01; ours is shorter with a larger rate (the estimator is small and starts from scratch).
 */
export const STAGE2_TRAIN: Record<"tiny" | "small", TrainConfig> = {
  tiny: { ...TRAIN_PRESETS.tiny, steps: 6, lr: 1e-3, warmupSteps: 1, weightDecay: 0.01, renderInputsUntil: 0, ckptEvery: 3 },
  small: { ...SMALL_TRAIN, steps: 1200, batch: 4, lr: 1e-3, warmupSteps: 50, weightDecay: 0.01, renderInputsUntil: 0, minLrRatio: 0.1, ckptEvery: 50, evalEvery: 200, evalScenes: 16 },
};

/** The first training-scene seed of a run (training seeds stay far below the held-out range). */
export function trainSeedBase(train: TrainConfig): number {
  return train.seed * 1_000_000;
}

/**
 * Resolves a RunConfig: the preset, then `key=value` overrides with dotted paths (`train.lr=3e-4`,
 * `model.layers.camera=3`, `data.movers=[0,1]`; values parse as JSON, else as strings), then the strict schema.
 * An unknown key or a bad value is a user error naming the flag.
 */
export function resolveRunConfig(preset: string, overrides: readonly string[] = []): RunConfig {
  const base = (RUN_PRESETS as Record<string, RunConfig | undefined>)[preset];
  if (!base) throw new WildrayzerError(`--preset ${preset}: unknown run preset (choose from ${Object.keys(RUN_PRESETS).join(", ")})`);
  return applyOverrides(base, overrides);
}

/** `base` with `key=value` overrides (as for resolveRunConfig), validated. */
export function applyOverrides(base: RunConfig, overrides: readonly string[] = []): RunConfig {
  const cfg = structuredClone(base) as unknown as Record<string, unknown>;
  for (const o of overrides) {
    const eq = o.indexOf("=");
    if (eq <= 0) throw new WildrayzerError(`--set ${o}: expected key=value, e.g. train.lr=3e-4`);
    const path = o.slice(0, eq).split(".");
    const text = o.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    let node = cfg;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== "object" || next === null || Array.isArray(next)) throw new WildrayzerError(`--set ${o}: unknown key ${path.join(".")}`);
      node = next as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (!(last in node)) throw new WildrayzerError(`--set ${o}: unknown key ${path.join(".")}`);
    node[last] = value;
  }
  const parsed = RunConfigSchema.safeParse(cfg);
  if (!parsed.success) throw new WildrayzerError(formatIssues("config", parsed.error.issues));
  return parsed.data as RunConfig;
}

/**
 * The stage-2 run on top of the stage-1 model file `from` (its model, data and meta `fromModel`/`fromData`): the
 * same RayZer plus a motion estimator sized for it (the `tiny` or `small` motion preset, reading the mask tap's
 * `featureChannels`), dynamic scenes (1–2 movers), the stage-2 schedule, then `overrides`.
 */
export function resolveStage2Run(
  from: string,
  fromModel: ModelConfig,
  fromData: SynthConfig,
  opts: { labels: "pseudo" | "oracle"; features: boolean; featureChannels: number; overrides?: readonly string[] },
): RunConfig {
  if (fromModel.motion) throw new WildrayzerError(`--from ${from}: already has a motion estimator (stage ${"2 or 3"}); stage 2 starts from a stage-1 RayZer`);
  const size = fromModel.d <= MODEL_PRESETS.tiny.d ? "tiny" : "small";
  const motion = { ...MOTION_PRESETS[size], featureChannels: opts.featureChannels, tokenWidth: fromModel.d, patch: fromModel.patch };
  const base: RunConfig = {
    data: { ...fromData, movers: [1, 2] },
    model: { ...fromModel, motion },
    train: STAGE2_TRAIN[size],
    stage: 2,
    motion: { from, labels: opts.labels, features: opts.features, psnrFilter: 17, pseudo: "ours", pool: size === "tiny" ? 0 : 384, positiveWeight: 4 },
  };
  return applyOverrides(base, opts.overrides ?? []);
}

/**
 * Stage 3 on top of a model: the official schedule is lr 2e-4, 1,000 warm-up steps of 20,000, batch 8, weight
 * decay 0.01; ours fine-tunes the small model for fewer steps at the same rate.
 */
export const STAGE3_TRAIN: Record<"tiny" | "small", TrainConfig> = {
  tiny: { ...TRAIN_PRESETS.tiny, steps: 6, lr: 2e-4, warmupSteps: 1, weightDecay: 0.01, renderInputsUntil: 0, ckptEvery: 3 },
  small: { ...SMALL_TRAIN, steps: 600, batch: 8, lr: 2e-4, warmupSteps: 50, weightDecay: 0.01, renderInputsUntil: 0, minLrRatio: 0.1, ckptEvery: 50, evalEvery: 200, evalScenes: 32 },
};

/** The masked-reconstruction defaults (official thresholds and copy-paste probability). */
/**
 * The masked-reconstruction defaults: the official token threshold and copy-paste probability; the pixel gate at
 * 0.2, where the shipped estimator's binarised map best matches the true masks on training-range scenes (IoU 0.160;
 * the official 0.1 gates 45 % of the pixels where movers cover 10 %: scripts/maskedThresholds.ts, docs/METHOD.md).
 */
export const MASKED_DEFAULTS: Omit<MaskedTrainConfig, "from"> = { masks: "motion", tokenThreshold: 0.1, gateThreshold: 0.2, gate: true, copyPaste: 0.8 };

/**
 * The stage-3 run on top of the model file `from` (its model, data): the same model (its motion estimator frozen,
 * when it has one), dynamic scenes (1–2 movers), the stage-3 schedule, `masked` settings, then `overrides`.
 */
export function resolveStage3Run(from: string, fromModel: ModelConfig, fromData: SynthConfig, masked: Partial<Omit<MaskedTrainConfig, "from">> = {}, overrides: readonly string[] = []): RunConfig {
  const settings: MaskedTrainConfig = { ...MASKED_DEFAULTS, ...masked, from };
  if (settings.masks === "motion" && !fromModel.motion)
    throw new WildrayzerError(`--from ${from}: has no motion estimator (a stage-1 RayZer); stage 3 with --masks motion starts from a stage-2 model (train --stage 2), or use --masks oracle|none`);
  const size = fromModel.d <= MODEL_PRESETS.tiny.d ? "tiny" : "small";
  const base: RunConfig = { data: { ...fromData, movers: [1, 2] }, model: fromModel, train: STAGE3_TRAIN[size], stage: 3, masked: settings };
  return applyOverrides(base, overrides);
}
