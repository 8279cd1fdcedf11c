/**
 * The training loop, read top to bottom: resolve the start (fresh or resumed from the run folder's checkpoint),
 * then per step generate the batch on the host (scene seeds and view choices are pure functions of the run seed
 * and the step, so a resumed run sees exactly the batches it would have seen), run the jitted step, check the loss
 * is finite, log to `metrics.jsonl`, and checkpoint atomically. A non-finite loss stops training with a message;
 * the last checkpoint on disk is the last good state. Library code: reports through `onProgress`, prints nothing.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { numpy as np, random } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { initAdamW, type TrainState } from "../engine/optim.ts";
import { dispose } from "../engine/params.ts";
import { makeRng } from "../engine/rng.ts";
import { HELD_OUT_SEED_START } from "../data/config.ts";
import { packBatch, selectViews, type HostBatch } from "../data/sampling.ts";
import { generateScene } from "../data/synth/index.ts";
import { readClips } from "../data/readers/index.ts";
import type { Clip } from "../data/clip.ts";
import type { Scene } from "../data/scene.ts";
import { initRayZer, type RayZerParams } from "../model/rayzer.ts";
import { evaluateStage1, type EvalReport } from "../eval/evaluate.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { trainSeedBase, type RunConfig } from "./config.ts";
import { makeStage1Steps, type Stage1Batch } from "./step.ts";
import { loadMobilenetV2 } from "../features/mobilenetV2.ts";

export type TrainProgress = { step: number; steps: number; loss: number; lr: number; gradNorm: number; msPerStep: number; eval?: EvalReport };
export type TrainResult = { steps: number; resumedFrom: number | null; lastLoss: number; checkpoint: string; msPerStep: number };

export const CHECKPOINT_FILE = "checkpoint.safetensors";
export const METRICS_FILE = "metrics.jsonl";

/**
 * The host batch of training step `step`: a pure function of (run, step) — and of `clips` when the run trains on
 * footage (`run.dataDir`): then sample i draws a clip and a window of `views` consecutive frames from the seeded
 * generator of its training seed, inputs at the window ends and the targets between in shuffled order, as for
 * generated scenes.
 */
export function trainBatch(run: RunConfig, step: number, clips: readonly Scene[] | null = null): HostBatch {
  if (!clips && trainSeedBase(run.train) + (step + 1) * run.train.batch > HELD_OUT_SEED_START) {
    throw new WildrayzerError(`train.seed ${run.train.seed}: step ${step} would draw held-out scenes (seeds ≥ ${HELD_OUT_SEED_START}); use a smaller train.seed`);
  }
  const { views, inputViews } = run.model;
  const scenes = [];
  const orders = [];
  for (let i = 0; i < run.train.batch; i++) {
    const seed = trainSeedBase(run.train) + step * run.train.batch + i;
    if (clips) {
      const rng = makeRng(seed ^ 0x5eed);
      const clip = clips[rng.int(clips.length)]!;
      const start = rng.int(clip.frames.length - views + 1);
      const { inputs, targets } = selectViews(rng, views, inputViews, views);
      scenes.push(clip);
      orders.push([...inputs, ...targets].map((f) => f + start));
      continue;
    }
    const scene = generateScene(seed, run.data);
    const { inputs, targets } = selectViews(makeRng(seed ^ 0x5eed), scene.frames.length, inputViews, views);
    scenes.push(scene);
    orders.push([...inputs, ...targets]);
  }
  return packBatch(scenes, orders);
}

/** The clips of `run.dataDir` at the model's size, each with at least the model's views; null for generated data. */
export async function loadTrainClips(run: RunConfig): Promise<Clip[] | null> {
  if (!run.dataDir) return null;
  const clips = await readClips(run.dataDir, { size: run.model.imageSize });
  for (const c of clips)
    if (c.frames.length < run.model.views) throw new WildrayzerError(`${c.source}: ${c.frames.length} frames, training samples need ${run.model.views}`);
  return clips;
}

/**
 * Trains stage 1 in `outDir` (created if needed). With `resume` and an existing checkpoint there, continues from
 * its step; the stored config must equal `run` (a changed config is a user error, not a silent restart).
 */
export async function trainStage1(opts: {
  run: RunConfig;
  outDir: string;
  resume?: boolean;
  onProgress?: (p: TrainProgress) => void;
  /** Stop after this step (exclusive), as if killed there; for tests of resumption. */
  stopAfter?: number;
}): Promise<TrainResult> {
  const { run, outDir } = opts;
  const clips = await loadTrainClips(run); // before anything is written: a bad folder leaves no run behind
  mkdirSync(outDir, { recursive: true });
  const ckptPath = join(outDir, CHECKPOINT_FILE);
  const metricsPath = join(outDir, METRICS_FILE);
  let state: TrainState<RayZerParams>;
  let start = 0;
  let resumedFrom: number | null = null;
  if (opts.resume && existsSync(ckptPath)) {
    const loaded = loadCheckpoint(ckptPath);
    if (JSON.stringify(loaded.meta.run) !== JSON.stringify(run)) {
      dispose(loaded.state);
      throw new WildrayzerError(`${ckptPath}: was trained with a different config; use another --out folder, or drop --resume to start over`);
    }
    state = loaded.state;
    start = loaded.meta.step;
    resumedFrom = start;
  } else {
    const params = initRayZer(random.key(run.train.seed), run.model);
    state = { params, opt: initAdamW(params) };
  }
  writeFileAtomic(join(outDir, "config.json"), `${JSON.stringify(run, null, 2)}\n`);
  const kept = existsSync(metricsPath) && resumedFrom !== null ? keepMetricsBefore(readFileSync(metricsPath, "utf8"), start) : "";
  let metricsText = kept;

  const features = run.train.perceptualWeight > 0 ? await loadMobilenetV2() : null;
  const steps = makeStage1Steps(run, { features });
  const end = Math.min(run.train.steps, opts.stopAfter ?? run.train.steps);
  let lastLoss = Number.NaN;
  let lastSaved = start;
  const t0 = performance.now();
  let host = start < end ? trainBatch(run, start, clips) : null;
  for (let step = start; step < end; step++) {
    if (!host) throw new Error("trainStage1: missing host batch"); // unreachable
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
    const fn = step < run.train.renderInputsUntil ? steps.withInputs : steps.plain;
    const [next, m] = fn(state, batch);
    state = next;
    // The step runs on the worker pool; generate the next batch on this thread meanwhile (same batches, in order).
    host = step + 1 < end ? trainBatch(run, step + 1, clips) : null;
    const read = (await Promise.all([m.loss.data(), m.gradNorm.data(), m.lr.data()])) as ArrayLike<number>[];
    const [loss, gradNorm, lr] = read.map((x) => Number(x[0]));
    if (!Number.isFinite(loss!) || !Number.isFinite(gradNorm!)) {
      dispose(state);
      throw new WildrayzerError(
        `training diverged at step ${step} (loss ${loss}, gradient norm ${gradNorm}); the last good checkpoint is ${ckptPath} (step ${lastSaved}); lower --train.lr and resume`,
        { exitCode: 1 },
      );
    }
    lastLoss = loss!;
    const done = step + 1;
    const msPerStep = (performance.now() - t0) / (done - start);
    if (done % run.train.logEvery === 0 || done === end) {
      metricsText += `${JSON.stringify({ step: done, loss, lr, gradNorm, msPerStep: Math.round(msPerStep) })}\n`;
      writeFileAtomic(metricsPath, metricsText);
    }
    let evalReport: EvalReport | undefined;
    // the periodic evaluation uses generated held-out scenes: off when training on footage
    if (!clips && run.train.evalEvery > 0 && (done % run.train.evalEvery === 0 || done === run.train.steps)) {
      // held-out progress in the log (seeds from the held-out range; never trained on)
      evalReport = await evaluateStage1(state.params, run.model, run.data, { scenes: run.train.evalScenes });
      metricsText += `${JSON.stringify({ step: done, eval: evalReport })}\n`;
      writeFileAtomic(metricsPath, metricsText);
    }
    if (done % run.train.ckptEvery === 0 || done === end) {
      await saveCheckpoint(ckptPath, state, { run, step: done, stage: 1 });
      lastSaved = done;
    }
    opts.onProgress?.({ step: done, steps: run.train.steps, loss: loss!, lr: lr!, gradNorm: gradNorm!, msPerStep, eval: evalReport });
  }
  dispose(state);
  features?.dispose();
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
