import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { engine } from "../helpers/engine.ts";
import { DEFAULT_MODEL, DEFAULT_RAYZER_DYNAMIC, DEFAULT_WILDRAYZER, loadModel, readModelFile } from "../../src/model/loadFile.ts";
import { masksByDefault } from "../../src/pipeline/maskedInputs.ts";
import { loadMobilenetV2 } from "../../src/features/mobilenetV2.ts";
import { dispose } from "../../src/engine/params.ts";
import { HELD_OUT_SEED_START, SynthConfigSchema } from "../../src/data/config.ts";
import { packBatch } from "../../src/data/sampling.ts";
import { heldOutSamples } from "../../src/eval/evaluate.ts";
import { evaluateMotionMasks } from "../../src/eval/motionEval.ts";
import { MASK_TAP } from "../../src/pipeline/pseudoLabels.ts";

before(engine);

describe("the shipped WildRayZer (models/wildrayzer-small.safetensors)", () => {
  it("is a stage-3 model: the shipped RayZer trained further with masks, a motion estimator whose held-out masks beat marking every pixel", async () => {
    assert.ok(existsSync(DEFAULT_WILDRAYZER), `${DEFAULT_WILDRAYZER} is missing: run npm run train:wildrayzer`);
    const { meta } = readModelFile(DEFAULT_WILDRAYZER);
    assert.equal(meta.stage, 3);
    assert.ok(meta.model.motion, "it has a motion estimator");
    assert.match(meta.banner ?? "", /^stage 3: masked reconstruction .*the frozen motion estimator/);
    // stage 3 trained the RayZer it started from (the shipped stage-1 model, through stage 2): every RayZer tensor is
    // there, and most of them moved
    const s1 = readModelFile(DEFAULT_MODEL).file.tensors;
    const s3 = readModelFile(DEFAULT_WILDRAYZER).file.tensors;
    let moved = 0;
    for (const [name, t] of s1) {
      const u = s3.get(name);
      assert.ok(u && u.data.length === t.data.length, `${name} is in the stage-3 model`);
      if (u.data.some((x, i) => x !== t.data[i])) moved++;
    }
    assert.ok(moved > 0.9 * s1.size, `${moved} of ${s1.size} RayZer tensors trained in stage 3`);
    const { params } = loadModel(DEFAULT_WILDRAYZER);
    assert.ok(masksByDefault(meta.stage, params, meta.model), "a stage-3 model renders from masked input tokens by default");
    const fx = await loadMobilenetV2();
    const data = SynthConfigSchema.parse({ ...meta.data, movers: [1, 2] });
    const scenes = 6;
    const r = await evaluateMotionMasks(params, meta.model, data, fx, MASK_TAP, { scenes });
    // marking every pixel scores IoU = the moving fraction of each view: the bar a useful mask must clear
    const seeds = Array.from({ length: scenes }, (_, i) => HELD_OUT_SEED_START + 30_000 + i);
    const { scenes: held, orders } = heldOutSamples(seeds, data, meta.model);
    const host = packBatch(held, orders);
    const [b, v, , h, w] = host.shape;
    let all = 0;
    for (let j = 0; j < b * v; j++) all += host.masks.subarray(j * h * w, (j + 1) * h * w).reduce((a, x) => a + x, 0) / (h * w);
    all /= b * v;
    assert.ok(r.maskIou > all + 0.03, `estimator mIoU ${r.maskIou.toFixed(3)} vs marking every pixel ${all.toFixed(3)}`);
    dispose(params);
    fx.dispose();
  });

  it("is compared with models/rayzer-dynamic-small.safetensors: the shipped RayZer fine-tuned on the same dynamic scenes without masks", () => {
    assert.ok(existsSync(DEFAULT_RAYZER_DYNAMIC), `${DEFAULT_RAYZER_DYNAMIC} is missing: run npm run train:rayzer-dynamic`);
    const { meta } = readModelFile(DEFAULT_RAYZER_DYNAMIC);
    const w = readModelFile(DEFAULT_WILDRAYZER).meta;
    assert.equal(meta.stage, 3);
    assert.equal(meta.model.motion, undefined, "no motion estimator");
    const run = meta.run as { masked?: { masks: string; copyPaste: number }; train: { steps: number; batch: number; seed: number }; data: unknown };
    const wrun = w.run as typeof run;
    assert.deepEqual([run.masked?.masks, run.masked?.copyPaste], ["none", 0], "no masks, no copy-paste");
    // the same budget and the same training scenes as the WildRayZer's stage 3
    assert.deepEqual([run.train.steps, run.train.batch, run.train.seed], [wrun.train.steps, wrun.train.batch, wrun.train.seed]);
    assert.deepEqual(run.data, wrun.data);
  });
});
