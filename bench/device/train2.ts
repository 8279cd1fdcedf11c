/**
 * From-scratch `small` runs with config overrides on the engine device, in chunks until BUDGET_S; metrics to
 * $OUT/metrics-NAME.jsonl after every chunk. Env: NAME, SETS (space-separated key=value overrides), BUDGET_S, CHUNK.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { startEngine } from "../../src/engine/backend.ts";
import { resolveRunConfig } from "../../src/train/config.ts";
import { trainStage1 } from "../../src/train/loop.ts";

const OUT = process.env.OUT ?? "/tmp/out";
const NAME = process.env.NAME ?? "run";
const BUDGET_S = Number(process.env.BUDGET_S ?? 270);
const CHUNK = Number(process.env.CHUNK ?? 250);
const t0 = performance.now();
await startEngine({ device: (process.env.DEVICE ?? "webgpu") as "webgpu" });
const run = resolveRunConfig("small", ["train.poseWarmupSteps=1200", ...(process.env.SETS ?? "").split(" ").filter(Boolean)]);
const dir = `/tmp/run-${NAME}`;
let step = 0;
while (step < run.train.steps && (performance.now() - t0) / 1000 < BUDGET_S) {
  const r = await trainStage1({
    run,
    outDir: dir,
    resume: true,
    stopAfter: step + CHUNK,
    onProgress: (p) => {
      if (p.eval) console.log(`${NAME} step ${p.step} eval PSNR ${p.eval.psnr.model.toFixed(2)} (nearest ${p.eval.psnr.nearestInput.toFixed(2)}) ${p.msPerStep.toFixed(0)} ms/step`);
    },
  });
  step = r.steps;
  console.log(`${NAME} chunk: step ${step}, ${r.msPerStep.toFixed(0)} ms/step, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  copyFileSync(join(dir, "metrics.jsonl"), join(OUT, `metrics-${NAME}.jsonl`));
}
