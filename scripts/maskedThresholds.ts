/**
 * Stage 3's two thresholds for a motion estimator (docs/METHOD.md §7), chosen on
 * TRAINING-range scenes (never the held-out ones): for the pixel gate, the probability threshold whose binarised
 * map has the best IoU with the generator's true masks; for the token mask, the threshold on a token's pooled
 * probability whose dropped tokens best match (IoU) the tokens the true masks drop at the official 0.1.
 *
 *   node --import tsx --import ./src/engine/workerAdapter.ts scripts/maskedThresholds.ts [--samples 64] [--model FILE]
 */
import { parseArgs } from "node:util";
import { startEngine } from "../src/engine/backend.ts";
import { SynthConfigSchema } from "../src/data/config.ts";
import { loadMobilenetV2 } from "../src/features/mobilenetV2.ts";
import { DEFAULT_WILDRAYZER, loadModel } from "../src/model/loadFile.ts";
import { tokenKeep, TOKEN_MASK_THRESHOLD } from "../src/model/maskedTokens.ts";
import { makeMotionPass, motionProbabilities } from "../src/pipeline/motion.ts";
import { MASK_TAP } from "../src/pipeline/pseudoLabels.ts";
import { trainSamples } from "../src/train/batches.ts";
import { STAGE3_TRAIN, type RunConfig } from "../src/train/config.ts";

const { values } = parseArgs({ options: { samples: { type: "string", default: "64" }, model: { type: "string", default: DEFAULT_WILDRAYZER }, seed: { type: "string", default: "3" } } });
await startEngine({ device: "wasm" });
const fx = await loadMobilenetV2();
const { params, meta } = loadModel(values.model);
const model = meta.model;
// training-range scenes of another run seed than the shipped models' (seed 0)
const run: RunConfig = { data: SynthConfigSchema.parse({ ...meta.data, movers: [1, 2] }), model, train: { ...STAGE3_TRAIN.small, seed: Number(values.seed) }, stage: 3 };
const pass = makeMotionPass(model);
const probs: Float32Array[] = [];
const truth: Float32Array[] = [];
let shape: number[] = [];
for (let s = 0; s < Number(values.samples); s += 8) {
  const host = trainSamples(run, Array.from({ length: 8 }, (_, i) => s + i));
  shape = host.shape;
  probs.push(await motionProbabilities(pass, params, model, fx, MASK_TAP, host.images, host.shape));
  truth.push(host.masks);
}
const [, v, , h, w] = shape as [number, number, number, number, number];
const p = Float32Array.from(probs.flatMap((x) => [...x]));
const t = Float32Array.from(truth.flatMap((x) => [...x]));
const m = p.length / (h * w);
const iou = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let i = 0;
  let u = 0;
  for (let q = 0; q < a.length; q++) {
    const x = a[q]! > 0;
    const y = b[q]! > 0;
    if (x && y) i++;
    if (x || y) u++;
  }
  return u === 0 ? 1 : i / u;
};
console.log(`${m} views (${m / v} samples) of ${h}×${w}; true movers cover ${((100 * t.reduce((a, x) => a + x, 0)) / t.length).toFixed(1)} % of the pixels`);
console.log("pixel gate: threshold → IoU with the true masks, gated %");
for (const thr of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
  const bin = Float32Array.from(p, (x) => (x > thr ? 1 : 0));
  console.log(`  ${thr.toFixed(1)}  IoU ${iou(bin, t).toFixed(3)}  gated ${((100 * bin.reduce((a, x) => a + x, 0)) / bin.length).toFixed(1)} %`);
}
const oracleDrop = Float32Array.from(tokenKeep(t, m, h, w, model.patch, TOKEN_MASK_THRESHOLD), (k) => 1 - k);
console.log(`token mask: the true masks drop ${((100 * oracleDrop.reduce((a, x) => a + x, 0)) / oracleDrop.length).toFixed(1)} % of the tokens at ${TOKEN_MASK_THRESHOLD}`);
console.log("token mask: threshold on the pooled probability → IoU with the true masks' dropped tokens, dropped %");
for (const thr of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]) {
  const drop = Float32Array.from(tokenKeep(p, m, h, w, model.patch, thr), (k) => 1 - k);
  console.log(`  ${thr.toFixed(1)}  IoU ${iou(drop, oracleDrop).toFixed(3)}  dropped ${((100 * drop.reduce((a, x) => a + x, 0)) / drop.length).toFixed(1)} %`);
}
pass.dispose();
fx.dispose();
