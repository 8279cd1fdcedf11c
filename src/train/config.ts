/**
 * TrainConfig (optimiser, schedule, sampling per step, logging and checkpoint cadence) and RunConfig = { data,
 * model, train }: resolved once (preset, then flags), validated by strict schemas, printed at start and stored in
 * every checkpoint. Stage-1 numbers start from RECIPE.md's best CPU setting (lr 5e-4, warm-up 100, cosine to 0.1×,
 * batch 16, inputs rendered as extra targets for the first 900 steps).
 */
import { z } from "zod";
import { WildrayzerError, formatIssues } from "../engine/errors.ts";
import { SynthConfigSchema, SYNTH_PRESETS, type SynthConfig } from "../data/config.ts";
import { MODEL_PRESETS, ModelConfigSchema, type ModelConfig } from "../model/config.ts";

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
    /** Also render the input views as targets until this step (RECIPE.md: helps early learning). */
    renderInputsUntil: z.number().int().min(0),
    /**
     * Labelled ablation, off by default: for the first `poseWarmupSteps` steps, a fraction `poseWarmupFraction`
     * of each batch's samples is rendered with the generator's true cameras instead of the predicted ones.
     */
    poseWarmupSteps: z.number().int().min(0).default(0),
    poseWarmupFraction: z.number().min(0).max(1).default(0.5),
    /** Weight of the perceptual term (SPEC §4: 0.2) on the bundled MobileNetV2 features (src/features/perceptual.ts). */
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

/** Stage 1 (RayZer pre-training) on the `small` model, RECIPE.md's best measured setting. */
export const SMALL_TRAIN: TrainConfig = {
  steps: 3600, // RECIPE.md: 3,000 steps at batch 16 beat both baselines; batch 8 buys ~2× the steps per minute here
  batch: 8,
  lr: 5e-4, // 1e-3 was worse (RECIPE.md)
  beta1: 0.9,
  beta2: 0.95,
  weightDecay: 0.05,
  clipNorm: 1.0,
  warmupSteps: 100,
  minLrRatio: 0.1,
  targetsPerStep: 2, // 2 inputs + 2 targets per sample (RECIPE.md study 2)
  renderInputsUntil: 600,
  poseWarmupSteps: 0,
  poseWarmupFraction: 0.5,
  perceptualWeight: 0, // SPEC: 0.2; the shipped model was trained before the backbone landed (--set train.perceptualWeight=0.2)
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

export const RunConfigSchema = z
  .object({
    data: SynthConfigSchema,
    model: ModelConfigSchema,
    train: TrainConfigSchema,
    /** Train on the clips of this folder (one clip or a folder of clips) instead of generated scenes. */
    dataDir: z.string().min(1).optional(),
  })
  .strict();
export type RunConfig = { data: SynthConfig; model: ModelConfig; train: TrainConfig; dataDir?: string };

/** The run presets: `tiny` for tests, `small` for the CPU demo model. */
export const RUN_PRESETS: Record<"tiny" | "small", RunConfig> = {
  tiny: { data: { ...SYNTH_PRESETS.tiny, frames: 6, movers: [0, 0] }, model: MODEL_PRESETS.tiny, train: TRAIN_PRESETS.tiny },
  small: { data: { ...SYNTH_PRESETS.tiny, frames: 6, movers: [0, 0], path: "mixed" }, model: MODEL_PRESETS.small, train: TRAIN_PRESETS.small },
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
