/**
 * Stage-1 training on the engine device (WebGPU by default) in chunks of CHUNK steps until BUDGET_S seconds have
 * passed (each chunk resumes from the checkpoint, so a kill loses at most one chunk); the metrics go to
 * $OUT/metrics-NAME.jsonl after every chunk. Env:
 *   NAME, SETS      run name; space-separated `key=value` overrides of the `small` preset (pose warm-up 1,200 as the
 *                   shipped model, unless SETS says otherwise)
 *   FROM, TOTAL     continue that checkpoint instead of starting fresh, the schedule stretched to TOTAL steps
 *   EVAL_SCENES     at the end, export an F16 model to $OUT and evaluate it on this many held-out scenes
 * Run from the repo root: node --import tsx --import ./src/engine/workerAdapter.ts bench/device/train.ts
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEngine } from "../../src/engine/backend.ts";
import { dispose } from "../../src/engine/params.ts";
import { resolveRunConfig, type RunConfig } from "../../src/train/config.ts";
import { exportModel, loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { trainStage1 } from "../../src/train/loop.ts";
import { evaluateStage1 } from "../../src/eval/evaluate.ts";

const env = process.env;
const OUT = env.OUT ?? "/tmp/out";
const NAME = env.NAME ?? "run";
const BUDGET_S = Number(env.BUDGET_S ?? 270);
const CHUNK = Number(env.CHUNK ?? 250);
const t0 = performance.now();
const info = await startEngine({ device: (env.DEVICE ?? "webgpu") as "webgpu" });
console.log(`${NAME}: engine ${info.device} ${info.adapter}`);
const dir = `/tmp/run-${NAME}`;
mkdirSync(dir, { recursive: true });
mkdirSync(OUT, { recursive: true });
let run: RunConfig = resolveRunConfig("small", ["train.poseWarmupSteps=1200", ...(env.SETS ?? "").split(" ").filter(Boolean)]);
let step = 0;
if (env.FROM) {
  const src = loadCheckpoint(env.FROM);
  run = { ...src.meta.run, train: { ...src.meta.run.train, steps: Number(env.TOTAL ?? src.meta.run.train.steps), evalEvery: 600, ckptEvery: CHUNK } };
  await saveCheckpoint(join(dir, "checkpoint.safetensors"), src.state, { run, step: src.meta.step, stage: 1 });
  copyFileSync(join(env.FROM, "..", "metrics.jsonl"), join(dir, "metrics.jsonl"));
  dispose(src.state);
  step = src.meta.step;
}
while (step < run.train.steps && (performance.now() - t0) / 1000 < BUDGET_S) {
  const r = await trainStage1({
    run,
    outDir: dir,
    resume: true,
    stopAfter: step + CHUNK,
    onProgress: (p) => {
      if (p.eval) console.log(`${NAME} step ${p.step} eval PSNR ${p.eval.psnr.model.toFixed(2)} (nearest ${p.eval.psnr.nearestInput.toFixed(2)}, mean ${p.eval.psnr.meanOfInputs.toFixed(2)}) ${p.msPerStep.toFixed(0)} ms/step`);
    },
  });
  step = r.steps;
  console.log(`${NAME} chunk: step ${step}, ${r.msPerStep.toFixed(0)} ms/step, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  copyFileSync(join(dir, "metrics.jsonl"), join(OUT, `metrics-${NAME}.jsonl`));
}
if (env.EVAL_SCENES) {
  const file = join(OUT, `${NAME}-${step}.safetensors`);
  await exportModel(join(dir, "checkpoint.safetensors"), file);
  const { params, meta } = loadModel(file);
  const e = await evaluateStage1(params, meta.model, meta.data, { scenes: Number(env.EVAL_SCENES) });
  dispose(params);
  writeFileSync(join(OUT, `eval-${NAME}.json`), JSON.stringify({ step, eval: e }, null, 1));
  console.log(`${NAME} step ${step}: PSNR ${e.psnr.model.toFixed(2)} (nearest ${e.psnr.nearestInput.toFixed(2)}, mean ${e.psnr.meanOfInputs.toFixed(2)}, identity ${e.psnr.identityCameras.toFixed(2)}); rotation ${e.rotationErrorDeg.model.toFixed(2)}° vs ${e.rotationErrorDeg.identity.toFixed(2)}°`);
}
