/**
 * WildRayZer vs RayZer on held-out dynamic scenes (RESULTS.md, "WildRayZer vs RayZer"): each arm is a model file
 * and the token masks it renders with; every arm at every input count on the same scenes. Writes
 * `comparison.json`, `comparison.md` (the table) and `report.html` (the table and, for three scenes, every arm's
 * renders beside the clean truth, the motion masks and the replaced tokens) to --out.
 *
 *   node --import tsx --import ./src/engine/workerAdapter.ts scripts/wildrayzerComparison.ts --scenes 32 --inputs 2,3,4 --out out/comparison \
 *     --arm "RayZer=runs/rayzer/checkpoint.safetensors:none" --arm "WildRayZer=models/wildrayzer-small.safetensors:motion"
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEngine } from "../src/engine/backend.ts";
import { writeFileAtomic } from "../src/engine/files.ts";
import { HELD_OUT_SEED_START, SynthConfigSchema } from "../src/data/config.ts";
import { loadMobilenetV2 } from "../src/features/mobilenetV2.ts";
import { loadModel } from "../src/model/loadFile.ts";
import { compareArms, comparisonMarkdown, comparisonSection, type Arm } from "../src/eval/comparison.ts";
import type { TokenMaskSource } from "../src/eval/evaluate.ts";
import { buildReport, writeReport } from "../src/eval/report.ts";

const { values } = parseArgs({
  options: { scenes: { type: "string", default: "32" }, inputs: { type: "string", default: "2,3,4" }, out: { type: "string", default: "out/comparison" }, arm: { type: "string", multiple: true, default: [] }, pictures: { type: "string", default: "3" } },
});
await startEngine({ device: "wasm" });
const fx = await loadMobilenetV2();
const arms: Arm[] = values.arm.map((spec) => {
  const m = /^(.+)=(.+):(motion|oracle|none)$/.exec(spec);
  if (!m) throw new Error(`--arm ${spec}: expected NAME=FILE:motion|oracle|none`);
  const { params, meta } = loadModel(m[2]!);
  return { name: m[1]!, params, model: meta.model, tokenMasks: m[3] as TokenMaskSource };
});
if (arms.length === 0) throw new Error("give at least one --arm NAME=FILE:MASKS");
const first = loadModel(values.arm[0]!.replace(/^.+=(.+):\w+$/, "$1")).meta;
const data = SynthConfigSchema.parse({ ...first.data, movers: [1, 2] });
const inputs = values.inputs.split(",").map(Number);
const t0 = performance.now();
const results = await compareArms(arms, data, { scenes: Number(values.scenes), inputs, features: fx, onProgress: (d, n) => console.error(`${d}/${n} (${((performance.now() - t0) / 1000).toFixed(0)} s)`) });
const md = comparisonMarkdown(results);
writeFileAtomic(join(values.out, "comparison.json"), `${JSON.stringify({ scenes: Number(values.scenes), data, arms: values.arm, results }, null, 1)}\n`);
writeFileAtomic(join(values.out, "comparison.md"), `${md}\n`);
console.log(md);
const seeds = Array.from({ length: Number(values.pictures) }, (_, i) => HELD_OUT_SEED_START + i);
const section = await comparisonSection({
  title: "WildRayZer vs RayZer on held-out dynamic scenes",
  note: `${values.scenes} held-out dynamic scenes (1–2 movers), ${arms[0]!.model.inputViews} input views; each arm renders with the token masks named beside it.`,
  results,
  arms,
  data,
  seeds,
  features: fx,
});
const report = await buildReport({ sections: [section], title: "WildRayZer vs RayZer", intro: "Static-pixel metrics against the generator's frames; the clean truth has the movers removed.", scenes: [] });
console.log(`report: ${writeReport(values.out, report)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
fx.dispose();
