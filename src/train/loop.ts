/**
 * The training loop, read top to bottom: resolve the start (fresh or resumed from the run folder's checkpoint),
 * then per step generate the batch on the host (scene seeds and view choices are pure functions of the run seed
 * and the step, so a resumed run sees exactly the batches it would have seen), run the jitted step, check the loss
 * is finite, log to `metrics.jsonl`, and checkpoint atomically. A non-finite loss stops training with a message;
 * the last checkpoint on disk is the last good state. Library code: reports through `onProgress`, prints nothing.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { random } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { initAdamW, learningRate, makeTrainStep, type TrainState } from "../engine/optim.ts";
import { dispose, type ParamTree } from "../engine/params.ts";
import { initRayZer, type RayZerParams } from "../model/rayzer.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import type { RunConfig } from "./config.ts";
import { adamwConfig } from "./step.ts";
import { loadTrainClips } from "./batches.ts";
import { stage1, stage2, stage3, type StageDef, type StageEval } from "./stages.ts";
import { loadModel } from "../model/loadFile.ts";
import { loadMobilenetV2 } from "../features/mobilenetV2.ts";

export type TrainProgress = {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  msPerStep: number;
  /** Milliseconds of the step's host phases (stage 2: render, pseudo-label). */
  phases?: Record<string, number>;
} & StageEval;
export type TrainResult = { steps: number; resumedFrom: number | null; lastLoss: number; checkpoint: string; msPerStep: number };

export const CHECKPOINT_FILE = "checkpoint.safetensors";
export const METRICS_FILE = "metrics.jsonl";

/**
 * Trains stage 1 in `outDir` (created if needed). With `resume` and an existing checkpoint there, continues from
 * its step; the stored config must equal `run` (a changed config is a user error, not a silent restart).
 */
export async function trainStage1(opts: TrainOptions): Promise<TrainResult> {
  const clips = await loadTrainClips(opts.run); // before anything is written: a bad folder leaves no run behind
  const features = opts.run.train.perceptualWeight > 0 ? await loadMobilenetV2() : null;
  try {
    return await trainStage(stage1(opts.run, clips, features), opts, () => initRayZer(random.key(opts.run.train.seed), opts.run.model));
  } finally {
    features?.dispose();
  }
}

/**
 * Trains stage 2 in `outDir`: the RayZer of `run.motion.from` frozen, the motion estimator (fresh, from the run
 * seed) distilled from pseudo-masks (or the oracle masks). Resumes like stage 1.
 */
export async function trainStage2(opts: TrainOptions): Promise<TrainResult> {
  const { run } = opts;
  if (run.stage !== 2 || !run.motion) throw new Error("trainStage2: not a stage-2 run");
  const from = run.motion.from;
  const clips = await loadTrainClips(run);
  const init = () => {
    const { params, initialised } = loadModel(from, { config: run.model, extend: true, seed: run.train.seed });
    const stray = initialised.filter((n) => !n.startsWith("motion."));
    if (stray.length > 0) {
      dispose(params);
      throw new WildrayzerError(`${from}: lacks RayZer tensors (${stray.slice(0, 3).join(", ")}…); stage 2 starts from a trained stage-1 model`);
    }
    return params;
  };
  const fx = await loadMobilenetV2();
  try {
    return await trainStage(stage2(run, clips, fx), opts, init);
  } finally {
    fx.dispose();
  }
}

/**
 * Trains stage 3 in `outDir`: masked reconstruction starting from the model of `run.masked.from` (its motion
 * estimator, if any, frozen). Resumes like stage 1.
 */
export async function trainStage3(opts: TrainOptions): Promise<TrainResult> {
  const { run } = opts;
  if (run.stage !== 3 || !run.masked) throw new Error("trainStage3: not a stage-3 run");
  const from = run.masked.from;
  const clips = await loadTrainClips(run);
  const needFx = run.masked.masks === "motion" || run.train.perceptualWeight > 0;
  const fx = needFx ? await loadMobilenetV2() : null;
  try {
    return await trainStage(stage3(run, clips, fx), opts, () => loadModel(from, { config: run.model }).params);
  } finally {
    fx?.dispose();
  }
}

export type TrainOptions = {
  run: RunConfig;
  outDir: string;
  resume?: boolean;
  onProgress?: (p: TrainProgress) => void;
  /** Stop after this step (exclusive), as if killed there; for tests of resumption. */
  stopAfter?: number;
  /** Told the stage's banner once, before the first step. */
  onBanner?: (banner: string) => void;
};

/**
 * Trains one stage (src/train/stages.ts) in `outDir`: fresh from `init()` or resumed from the run folder's
 * checkpoint (whose config must equal `run`); per step the stage's batch, its jitted step (one per loss variant,
 * compiled on first use, the stage's frozen parameters left untouched), a finiteness check, the log, the
 * stage's evaluation hook and the checkpoint (atomic, tagged with the stage).
 */
export async function trainStage<B extends ParamTree>(stage: StageDef<B>, opts: TrainOptions, init: () => RayZerParams): Promise<TrainResult> {
  const { run, outDir } = opts;
  mkdirSync(outDir, { recursive: true });
  const ckptPath = join(outDir, CHECKPOINT_FILE);
  const metricsPath = join(outDir, METRICS_FILE);
  let state: TrainState<RayZerParams>;
  let start = 0;
  let resumedFrom: number | null = null;
  if (opts.resume && existsSync(ckptPath)) {
    const loaded = loadCheckpoint(ckptPath);
    const problem = resumeProblem(loaded.meta.run, run, loaded.meta.step);
    if (problem) {
      dispose(loaded.state);
      throw new WildrayzerError(`${ckptPath}: ${problem}`);
    }
    state = loaded.state;
    start = loaded.meta.step;
    resumedFrom = start;
    if (loaded.meta.run.train.steps !== run.train.steps) {
      const [a, b] = [adamwConfig(loaded.meta.run.train), adamwConfig(run.train)];
      opts.onBanner?.(
        `extending the run from ${loaded.meta.run.train.steps} to ${run.train.steps} steps: the learning-rate schedule is recomputed for the new total ` +
          `(warm-up, then cosine over ${run.train.steps} steps), so at step ${start} the learning rate goes from ${learningRate(start, a).toExponential(2)} to ${learningRate(start, b).toExponential(2)}`,
      );
    }
  } else {
    const params = init();
    state = { params, opt: initAdamW(params) };
  }
  writeFileAtomic(join(outDir, "config.json"), `${JSON.stringify(run, null, 2)}\n`);
  const kept = existsSync(metricsPath) && resumedFrom !== null ? keepMetricsBefore(readFileSync(metricsPath, "utf8"), start) : "";
  let metricsText = kept;

  opts.onBanner?.(stage.banner);
  const steps = new Map<string, ReturnType<typeof makeTrainStep<RayZerParams, B>>>();
  const stepFor = (variant: string) => {
    let fn = steps.get(variant);
    if (!fn) steps.set(variant, (fn = makeTrainStep(stage.loss(variant), adamwConfig(run.train), stage.frozen)));
    return fn;
  };
  const end = Math.min(run.train.steps, opts.stopAfter ?? run.train.steps);
  let lastLoss = Number.NaN;
  let lastSaved = start;
  const t0 = performance.now();
  let next = start < end ? await stage.batch(start, state.params) : null;
  try {
    for (let step = start; step < end; step++) {
      if (!next) throw new Error("trainStage: missing batch"); // unreachable
      const { batch, phases } = next;
      const [after, m] = stepFor(stage.variant(step))(state, batch);
      state = after;
      // The step runs on the worker pool; prepare the next batch on this thread meanwhile (same batches, in order).
      next = step + 1 < end ? await stage.batch(step + 1, state.params) : null;
      const read = (await Promise.all([m.loss.data(), m.gradNorm.data(), m.lr.data()])) as ArrayLike<number>[];
      const [loss, gradNorm, lr] = read.map((x) => Number(x[0]));
      if (!Number.isFinite(loss!) || !Number.isFinite(gradNorm!)) {
        throw new WildrayzerError(
          `training diverged at step ${step} (loss ${loss}, gradient norm ${gradNorm}); the last good checkpoint is ${ckptPath} (step ${lastSaved}); lower --train.lr and resume`,
          { exitCode: 1 },
        );
      }
      lastLoss = loss!;
      const done = step + 1;
      const msPerStep = (performance.now() - t0) / (done - start);
      if (done % run.train.logEvery === 0 || done === end) {
        metricsText += `${JSON.stringify({ step: done, loss, lr, gradNorm, msPerStep: Math.round(msPerStep), ...(phases ? { phases } : {}) })}\n`;
        writeFileAtomic(metricsPath, metricsText);
      }
      let evals: StageEval | undefined;
      if (run.train.evalEvery > 0 && (done % run.train.evalEvery === 0 || done === run.train.steps)) {
        evals = await stage.evaluate?.(state.params);
        if (evals) {
          metricsText += `${JSON.stringify({ step: done, ...evals })}\n`;
          writeFileAtomic(metricsPath, metricsText);
        }
      }
      if (done % run.train.ckptEvery === 0 || done === end) {
        await saveCheckpoint(ckptPath, state, { run, step: done, stage: stage.stage, banner: stage.banner });
        lastSaved = done;
      }
      opts.onProgress?.({ step: done, steps: run.train.steps, loss: loss!, lr: lr!, gradNorm: gradNorm!, msPerStep, ...(phases ? { phases } : {}), ...evals });
    }
  } finally {
    if (next) dispose(next.batch);
    dispose(state);
    stage.dispose?.();
    for (const fn of steps.values()) (fn as unknown as { dispose?: () => void }).dispose?.();
  }
  const msPerStep = end > start ? (performance.now() - t0) / (end - start) : 0;
  return { steps: end, resumedFrom, lastLoss, checkpoint: ckptPath, msPerStep };
}

/** The metrics lines logged before `step` (a resumed run rewrites what came after its checkpoint). */
function keepMetricsBefore(text: string, step: number): string {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && (JSON.parse(line) as { step: number }).step <= step)
    .map((l) => `${l}\n`)
    .join("");
}

/** Dotted paths (`train.lr`, `model.dim`) whose values differ between two configs, in key order. */
export function configDifferences(a: unknown, b: unknown, prefix = ""): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || "(root)"];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => configDifferences(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}

/**
 * Why a run folder's checkpoint (config `saved`, at step `step`) cannot be resumed with config `run`, or undefined
 * when it can: the configs must be equal except `train.steps`, which may grow (extending the run) but not fall
 * below the checkpoint's step.
 */
export function resumeProblem(saved: RunConfig, run: RunConfig, step: number): string | undefined {
  const diff = configDifferences(saved, run).filter((k) => k !== "train.steps");
  if (diff.length) {
    const show = (cfg: unknown, key: string) => JSON.stringify(key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], cfg));
    const list = diff.map((k) => `${k} ${show(saved, k)} → ${show(run, k)}`).join(", ");
    return `was trained with a different config (${list}); only --steps may change on --resume (to extend the run); use another --out folder, or drop --resume to start over`;
  }
  if (run.train.steps < step) return `is at step ${step}, past --steps ${run.train.steps}; pass --steps above ${step} to extend the run`;
  return undefined;
}
