import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { jit, random, type Array as JArray } from "@jax-js/jax";
import { arr, assertClose, engine, randValues, values } from "../helpers/engine.ts";
import { dispose, ref } from "../../src/engine/params.ts";
import { MODEL_PRESETS, type ModelConfig } from "../../src/model/config.ts";
import { MOTION_PRESETS } from "../../src/model/motionConfig.ts";
import { initRayZer, type RayZerParams } from "../../src/model/rayzer.ts";
import { motionInputs, motionLogits } from "../../src/model/wildrayzer.ts";

before(engine);

const cfg: ModelConfig = { ...MODEL_PRESETS.tiny, motion: MOTION_PRESETS.tiny };
const [B, V, S] = [2, cfg.views, cfg.imageSize];
const imgShape = [B, V, 3, S, S];
const featShape = [B, V, cfg.motion!.featureChannels, 8, 8]; // a stride-4 map, resized to the 4² token grid

/** Motion logits of all views and the targets' static renders, in one jitted pass. Consumes its arguments. */
const jitted = jit((p: RayZerParams, images: JArray, feats: JArray): [JArray, JArray] => {
  const motion = p.motion!;
  const all = Array.from({ length: V }, (_, i) => i);
  const mi = motionInputs({ ...p, motion: undefined }, images, cfg, all);
  dispose([mi.cameras.c2w, mi.cameras.fxfycxcy]);
  return [motionLogits(motion, feats, mi.imageTokens, mi.rayTokens, cfg), mi.renders];
});

async function pass(p: RayZerParams, images: Float32Array, feats: Float32Array): Promise<{ logits: number[]; renders: number[] }> {
  const [logits, renders] = jitted(ref(p), arr(images, imgShape), arr(feats, featShape));
  return { logits: await values(logits), renders: await values(renders) };
}

const maxDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe("motion logits through the frozen RayZer pass", () => {
  it("depend on the sample's own images only, and not on the renderings", async () => {
    const params = initRayZer(random.key(0), cfg);
    const images = randValues(1, imgShape, 0, 1);
    const feats = randValues(2, featShape);
    const base = await pass(params, images, feats);

    // another sample's images change: sample 0's logits (and renders) stay, sample 1's move
    const other = images.slice();
    other.set(randValues(3, [1, V, 3, S, S], 0, 1), images.length / 2);
    const changed = await pass(params, other, feats);
    const half = base.logits.length / 2;
    assertClose(changed.logits.slice(0, half), base.logits.slice(0, half), 1e-6, 1e-6, "sample 0 logits");
    assert.ok(maxDiff(changed.logits.slice(half), base.logits.slice(half)) > 1e-4, "sample 1's logits should change with its images");

    // a different renderer (same ray tokenizer): every rendering changes, no logit does
    const head = params.renderer.head.weight;
    params.renderer.head.weight = head.ref.mul(3);
    const rerendered = await pass(params, images, feats);
    assert.ok(maxDiff(rerendered.renders, base.renders) > 1e-3, "the renders should change with the renderer's head");
    assert.deepEqual(rerendered.logits, base.logits);
    head.dispose();
    dispose(params);
    jitted.dispose();
  });
});
