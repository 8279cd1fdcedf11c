import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { engine } from "../helpers/engine.ts";
import { DEFAULT_MODEL, DEFAULT_WILDRAYZER, loadModel, readModelFile } from "../../src/model/loadFile.ts";
import { loadMobilenetV2 } from "../../src/features/mobilenetV2.ts";
import { dispose } from "../../src/engine/params.ts";
import { HELD_OUT_SEED_START, SynthConfigSchema } from "../../src/data/config.ts";
import { packBatch } from "../../src/data/sampling.ts";
import { heldOutSamples } from "../../src/eval/evaluate.ts";
import { evaluateMotionMasks } from "../../src/eval/motionEval.ts";
import { MASK_TAP } from "../../src/pipeline/pseudoLabels.ts";

before(engine);

describe("the shipped WildRayZer (models/wildrayzer-small.safetensors)", () => {
  it("is the shipped RayZer plus a stage-2 motion estimator whose held-out masks beat marking every pixel", async () => {
    assert.ok(existsSync(DEFAULT_WILDRAYZER), `${DEFAULT_WILDRAYZER} is missing: run npm run train:wildrayzer`);
    const { meta } = readModelFile(DEFAULT_WILDRAYZER);
    assert.equal(meta.stage, 2);
    assert.ok(meta.model.motion, "it has a motion estimator");
    // the frozen RayZer is the shipped stage-1 model, tensor for tensor
    const s1 = readModelFile(DEFAULT_MODEL).file.tensors;
    const s2 = readModelFile(DEFAULT_WILDRAYZER).file.tensors;
    for (const [name, t] of s1) assert.deepEqual(s2.get(name)?.data, t.data, `${name} differs from models/small.safetensors`);
    const { params } = loadModel(DEFAULT_WILDRAYZER);
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
});
