/**
 * Test-time fitting (`wildrayzer run --fit STEPS`): the self-supervised stage-1 loss on windows of one clip, with
 * the pixels that the clip's current masks call moving gated out of the loss (src/train/losses.ts
 * gatedPhotometricLoss), so the RayZer learns this clip's static scene and not its movers. Everything but a motion
 * estimator trains (the estimator, if the model has one, is not read by this loss and stays bitwise unchanged).
 * Samples are seeded: window i of step s is drawn from the generator of seed·1e6 + s·batch + i. The clip's own
 * reconstruction loss is measured, before and after, on its deterministic mask windows (src/pipeline/windows.ts)
 * with every target rendered: the number the fit lowers.
 */
import { jit, numpy as np } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { initAdamW, makeTrainStep, type TrainState } from "../engine/optim.ts";
import { dispose, ref } from "../engine/params.ts";
import { makeRng } from "../engine/rng.ts";
import { packBatch, randomClipWindow, windowOrder, type ViewWindow } from "../data/sampling.ts";
import type { Scene } from "../data/scene.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { maskWindows } from "../pipeline/windows.ts";
import { SMALL_TRAIN, type RunConfig, type TrainConfig } from "./config.ts";
import { adamwConfig, stage3Loss, type Stage3Batch } from "./step.ts";
import { SYNTH_PRESETS } from "../data/config.ts";

export type FitOptions = {
  steps: number;
  /** Windows per step (default 4). */
  batch?: number;
  /** Peak learning rate (default 1e-4: fine-tuning a trained model), warm-up 10 % of the steps, cosine to 0.1×. */
  lr?: number;
  seed?: number;
  /** Told each step's loss (on that step's windows). */
  onStep?: (step: number, steps: number, loss: number) => void;
};

export type FitResult = {
  params: RayZerParams;
  /** Per-step training loss. */
  losses: number[];
  /** The clip's own gated reconstruction loss (MSE on the static pixels of its mask windows), before and after. */
  before: number;
  after: number;
  seconds: number;
};

/** The fitting run's training settings: `SMALL_TRAIN`'s optimiser with the fit's steps, batch and learning rate. */
export function fitTrainConfig(opts: FitOptions, model: ModelConfig): TrainConfig {
  return {
    ...SMALL_TRAIN,
    steps: opts.steps,
    batch: opts.batch ?? 4,
    lr: opts.lr ?? 1e-4,
    warmupSteps: Math.max(1, Math.round(opts.steps / 10)),
    minLrRatio: 0.1,
    weightDecay: 0,
    targetsPerStep: model.views - model.inputViews,
    renderInputsUntil: 0,
    poseWarmupSteps: 0,
    perceptualWeight: 0,
    seed: opts.seed ?? 0,
  };
}

/**
 * Fits `params` (consumed; the fitted tree is returned) to `clip` (at the model's working size) for `opts.steps`
 * steps. `moving[f]` is frame f's current mask at the working size (1 = moving: gated out of the loss).
 */
export async function fitToClip(params: RayZerParams, model: ModelConfig, clip: Scene, moving: readonly ArrayLike<number>[], opts: FitOptions): Promise<FitResult> {
  const { views, inputViews } = model;
  if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new WildrayzerError(`--fit ${opts.steps}: give a whole number of steps ≥ 1`);
  if (clip.frames.length < views) throw new WildrayzerError(`${clip.name}: ${clip.frames.length} frames, but fitting needs windows of ${views}`);
  if (moving.length !== clip.frames.length) throw new Error(`fitToClip: ${moving.length} masks for ${clip.frames.length} frames`);
  const train = fitTrainConfig(opts, model);
  // only `model` and `train` are read by the loss; `data` is a placeholder (the samples are the clip's)
  const run: RunConfig = { data: SYNTH_PRESETS.small, model, train, stage: 1 };
  const t0 = performance.now();
  const batchOf = (wins: readonly ViewWindow[]): Stage3Batch => {
    const host = packBatch(wins.map(() => clip), wins.map(windowOrder));
    const [b, v, c, h, w] = host.shape;
    const t = v - inputViews;
    const px = h * w;
    const targets = new Float32Array(b * t * c * px);
    const gate = new Float32Array(b * t * px);
    wins.forEach((win, i) => {
      win.targets.forEach((f, j) => {
        targets.set(clip.frames[f]!.image, (i * t + j) * c * px);
        const m = moving[f]!;
        for (let p = 0; p < px; p++) gate[(i * t + j) * px + p] = m[p]! > 0 ? 0 : 1;
      });
    });
    const gh = h / model.patch;
    const gw = w / model.patch;
    return {
      images: np.array(host.images).reshape(host.shape),
      targets: np.array(targets).reshape([b, t, c, h, w]),
      keep: np.ones([b, inputViews, gh * gw]),
      gate: np.array(gate).reshape([b, t, h, w]),
    };
  };
  const lossOf = jit((p: RayZerParams, b: Stage3Batch) => stage3Loss(p, b, run));
  const clipLoss = async (p: RayZerParams): Promise<number> => {
    let sum = 0;
    const wins = maskWindows(clip.frames.length, views);
    for (const win of wins) {
      const l = lossOf(ref(p), batchOf([win]));
      sum += Number(((await l.data()) as Float32Array)[0]);
    }
    return sum / wins.length;
  };
  const step = makeTrainStep((p: RayZerParams, b: Stage3Batch) => stage3Loss(p, b, run), adamwConfig(train), (name) => name.startsWith("motion."));
  let state: TrainState<RayZerParams> = { params, opt: initAdamW(params) };
  const losses: number[] = [];
  let before = Number.NaN;
  try {
    before = await clipLoss(state.params);
    for (let s = 0; s < train.steps; s++) {
      const wins = Array.from({ length: train.batch }, (_, i) => randomClipWindow(makeRng(train.seed * 1e6 + s * train.batch + i), clip.frames.length, views, inputViews));
      const [next, m] = step(state, batchOf(wins));
      state = next;
      const loss = Number(((await m.loss.data()) as Float32Array)[0]);
      m.gradNorm.dispose();
      m.lr.dispose();
      if (!Number.isFinite(loss)) throw new WildrayzerError(`--fit: the loss became ${loss} at step ${s}; fit fewer steps or run without --fit`, { exitCode: 1 });
      losses.push(loss);
      opts.onStep?.(s + 1, train.steps, loss);
    }
    const after = await clipLoss(state.params);
    dispose(state.opt);
    return { params: state.params, losses, before, after, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    dispose(state);
    throw e;
  } finally {
    for (const fn of [lossOf, step] as unknown as { dispose?: () => void }[]) fn.dispose?.();
  }
}
