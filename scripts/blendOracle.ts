/**
 * Blend ceilings of the stage-1 evaluation (RESULTS.md): on the held-out samples `wildrayzer eval` uses (same
 * seeds, same view choice), how well can the two inputs alone, mixed without any geometry, explain the targets?
 * Prints the mean PSNR of nearest-input copy, mean of inputs, the cross-fade at the true frame time, the best
 * global mix per target and the best per-pixel selection (src/eval/blendOracle.ts).
 *
 *   node --import tsx scripts/blendOracle.ts [--scenes 64] [--preset small] [--set data.path=jitter ...]
 */
import { parseArgs } from "node:util";
import { HELD_OUT_SEED_START } from "../src/data/config.ts";
import { blendCeilings, type BlendCeilings } from "../src/eval/blendOracle.ts";
import { heldOutSamples } from "../src/eval/evaluate.ts";
import { resolveRunConfig } from "../src/train/config.ts";

const { values } = parseArgs({ options: { scenes: { type: "string", default: "64" }, preset: { type: "string", default: "small" }, set: { type: "string", multiple: true, default: [] } } });
const run = resolveRunConfig(values.preset, values.set);
const seedsAll = Array.from({ length: Number(values.scenes) }, (_, i) => i);
const sums: Record<keyof BlendCeilings, number> = { nearestInput: 0, meanOfInputs: 0, crossFade: 0, bestGlobalAlpha: 0, bestPerPixel: 0 };
let count = 0;
const { scenes, orders } = heldOutSamples(seedsAll.map((i) => HELD_OUT_SEED_START + i), run.data, run.model);
scenes.forEach((scene, i) => {
  const order = orders[i]!;
  const [fa, fb] = [order[0]!, order[1]!];
  for (const f of order.slice(run.model.inputViews)) {
    const c = blendCeilings(scene.frames[fa]!.image, scene.frames[fb]!.image, scene.frames[f]!.image, (f - fa) / (fb - fa));
    for (const k of Object.keys(sums) as (keyof BlendCeilings)[]) sums[k] += c[k];
    count++;
  }
});
console.log(`${scenes.length} held-out scenes, ${count} targets (${values.preset}, ${run.data.path} paths, ${run.data.size}²)`);
console.log("| reference | PSNR (dB) |\n|---|--:|");
for (const [k, s] of Object.entries(sums)) console.log(`| ${k} | ${(s / count).toFixed(2)} |`);
