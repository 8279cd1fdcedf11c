/**
 * The motion estimator's mask quality (RESULTS.md, "Motion estimator"): for each model file given, mean IoU of its
 * binarised output on held-out synthetic dynamic scenes (every view against the generator's true masks), and, with
 * `--clip DIR`, on a real clip that has masks (working size, the model's windows); the frozen renderer's own
 * pseudo-labels on the same synthetic scenes as the reference (`--pseudo`).
 *
 *   node --import tsx --import ./src/engine/workerAdapter.ts scripts/motionResults.ts --scenes 32 [--clip ../shared/data/real/tennis] [--pseudo] FILE...
 */
import { parseArgs } from "node:util";
import { startEngine } from "../src/engine/backend.ts";
import { HELD_OUT_SEED_START, SynthConfigSchema } from "../src/data/config.ts";
import { readClip } from "../src/data/readers/index.ts";
import { loadMobilenetV2 } from "../src/features/mobilenetV2.ts";
import { maskIou } from "../src/masks/pipeline.ts";
import { loadModel } from "../src/model/loadFile.ts";
import { clipMotionMasks } from "../src/pipeline/motion.ts";
import { MASK_TAP } from "../src/pipeline/pseudoLabels.ts";
import { evaluateMotionMasks } from "../src/eval/motionEval.ts";
import { evaluateModelPseudoMasks } from "../src/eval/pseudoMaskEval.ts";
import { dispose } from "../src/engine/params.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { scenes: { type: "string", default: "32" }, clip: { type: "string" }, pseudo: { type: "boolean", default: false }, "max-frames": { type: "string", default: "48" } } });
const scenes = Number(values.scenes);
await startEngine({ device: "wasm" });
const fx = await loadMobilenetV2();
for (const file of positionals) {
  const { params, meta } = loadModel(file);
  const data = SynthConfigSchema.parse({ ...meta.data, movers: [1, 2] });
  const t0 = performance.now();
  const synth = await evaluateMotionMasks(params, meta.model, data, fx, MASK_TAP, { scenes });
  let line = `${file} (stage ${meta.stage}, step ${meta.step}): held-out synthetic mIoU ${synth.maskIou.toFixed(3)} over ${synth.frames} views (${((performance.now() - t0) / synth.frames).toFixed(0)} ms/view)`;
  if (values.clip) {
    const clip = await readClip(values.clip, { size: meta.model.imageSize, maxFrames: Number(values["max-frames"]) });
    const t1 = performance.now();
    const r = await clipMotionMasks(params, meta.model, clip, fx, MASK_TAP);
    const ms = (performance.now() - t1) / clip.frames.length;
    const ious = clip.frames.map((f, i) => (f.mask ? maskIou(r.masks[i]!, f.mask) : NaN)).filter(Number.isFinite);
    line += `; ${values.clip}: mIoU ${(ious.reduce((a, b) => a + b, 0) / ious.length).toFixed(3)} over ${ious.length} frames (working size ${clip.w}², ${ms.toFixed(0)} ms/frame)`;
  }
  console.log(line);
  if (values.pseudo) {
    const seeds = Array.from({ length: scenes }, (_, i) => HELD_OUT_SEED_START + 30_000 + i);
    const { motion: _motion, ...rayzer } = params;
    const r = await evaluateModelPseudoMasks(rayzer, { ...meta.model, motion: undefined }, data, fx, MASK_TAP, { seeds, variants: { ours: {} } });
    console.log(`  its frozen renderer's pseudo-labels on the same held-out scenes (targets only): mIoU ${r.ours!.miou.toFixed(3)} over ${r.ours!.frames} targets`);
    dispose(params);
  } else dispose(params);
}
fx.dispose();
