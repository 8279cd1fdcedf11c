/**
 * Continues the shipped model's run (runs/default, step 3600) on WebGPU for as long as the time budget allows, in
 * chunks of CHUNK steps (each chunk resumes from the checkpoint, so a kill loses at most one chunk), then exports an
 * F16 model and evaluates it on 64 held-out scenes. The schedule is stretched to TOTAL steps (cosine restarts at
 * 3600/TOTAL of the way down). Run: node --import tsx --import ./src/engine/workerAdapter.ts bench/device/train.ts
 */
import { mkdirSync, copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEngine } from "../../src/engine/backend.ts";
import { loadCheckpoint, saveCheckpoint, exportModel, loadModel } from "../../src/train/checkpoint.ts";
import { trainStage1 } from "../../src/train/loop.ts";
import { evaluateStage1 } from "../../src/eval/evaluate.ts";
import { dispose } from "../../src/engine/params.ts";

const OUT = process.env.OUT ?? "/tmp/out";
const TOTAL = Number(process.env.TOTAL ?? 7200);
const BUDGET_S = Number(process.env.BUDGET_S ?? 330);
const CHUNK = Number(process.env.CHUNK ?? 200);
const t0 = performance.now();
const info = await startEngine({ device: (process.env.DEVICE ?? "webgpu") as "webgpu" });
console.log(`engine ${info.device} ${info.adapter}`);
const dir = "/tmp/run";
mkdirSync(dir, { recursive: true });
const src = loadCheckpoint(".devprobe/run0/checkpoint.safetensors");
const run = { ...src.meta.run, train: { ...src.meta.run.train, steps: TOTAL, evalEvery: 600, ckptEvery: CHUNK } };
await saveCheckpoint(join(dir, "checkpoint.safetensors"), src.state, { run, step: src.meta.step, stage: 1 });
copyFileSync(".devprobe/run0/metrics.jsonl", join(dir, "metrics.jsonl"));
dispose(src.state);
let step = src.meta.step;
while (step < TOTAL && (performance.now() - t0) / 1000 < BUDGET_S) {
  const r = await trainStage1({
    run,
    outDir: dir,
    resume: true,
    stopAfter: step + CHUNK,
    onProgress: (p) => {
      if (p.step % 50 === 0) console.log(`step ${p.step} loss ${p.loss.toFixed(4)} ${p.msPerStep.toFixed(0)} ms/step${p.eval ? ` eval PSNR ${p.eval.psnr.model.toFixed(2)} (nearest ${p.eval.psnr.nearestInput.toFixed(2)}, mean ${p.eval.psnr.meanOfInputs.toFixed(2)})` : ""}`);
    },
  });
  step = r.steps;
  console.log(`chunk done: step ${step}, ${r.msPerStep.toFixed(0)} ms/step, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  copyFileSync(join(dir, "metrics.jsonl"), join(OUT, "metrics.jsonl"));
}
await exportModel(join(dir, "checkpoint.safetensors"), join(OUT, `small-gpu-${step}.safetensors`));
const { params, meta } = loadModel(join(OUT, `small-gpu-${step}.safetensors`));
const e = await evaluateStage1(params, meta.run.model, meta.run.data, { scenes: Number(process.env.EVAL_SCENES ?? 64) });
writeFileSync(join(OUT, "eval.json"), JSON.stringify({ step, eval: e }, null, 1));
console.log(`final step ${step}: PSNR ${e.psnr.model.toFixed(2)} nearest ${e.psnr.nearestInput.toFixed(2)} mean ${e.psnr.meanOfInputs.toFixed(2)} identity ${e.psnr.identityCameras.toFixed(2)}; rot ${e.rotationErrorDeg.model.toFixed(2)} vs ${e.rotationErrorDeg.identity.toFixed(2)}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
