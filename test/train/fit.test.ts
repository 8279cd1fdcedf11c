import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { engine } from "../helpers/engine.ts";
import { fitToClip } from "../../src/train/fit.ts";
import { MODEL_PRESETS, type ModelConfig } from "../../src/model/config.ts";
import { MOTION_PRESETS } from "../../src/model/motionConfig.ts";
import { initRayZer } from "../../src/model/rayzer.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { dispose, namedLeaves } from "../../src/engine/params.ts";

before(engine);

const model: ModelConfig = { ...MODEL_PRESETS.tiny, motion: MOTION_PRESETS.tiny };
const clip = generateScene(77, { ...RUN_PRESETS.tiny.data, frames: 7, movers: [1, 1] });
const px = clip.h * clip.w;
// a hand-made mask: a 12×12 square, at a different place in each frame, called moving (gated out of the loss)
const masks = clip.frames.map((_, f) => {
  const m = new Uint8Array(px);
  for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) m[(y + 2 * f) * clip.w + x + 3 * f] = 1;
  return m;
});

describe("test-time fitting (run --fit)", () => {
  it("lowers the clip's own gated reconstruction loss and leaves the motion estimator bitwise unchanged", async () => {
    const params = initRayZer(random.key(3), model);
    const motionBefore = await Promise.all(namedLeaves(params.motion!).map(async ([n, a]) => [n, Float32Array.from((await a.ref.data()) as Float32Array)] as const));
    const r = await fitToClip(params, model, clip, masks, { steps: 12, batch: 2, lr: 3e-3, seed: 1 });
    try {
      assert.equal(r.losses.length, 12);
      assert.ok(r.losses.every(Number.isFinite), `losses ${r.losses.join(", ")}`);
      assert.ok(r.after < 0.8 * r.before, `clip loss ${r.before} → ${r.after}`);
      const motionAfter = namedLeaves(r.params.motion!);
      for (const [i, [name, a]] of motionAfter.entries()) {
        const v = (await a.ref.data()) as Float32Array;
        assert.equal(name, motionBefore[i]![0]);
        assert.ok(v.every((x, j) => Object.is(x, motionBefore[i]![1][j])), `motion tensor ${name} changed`);
      }
    } finally {
      dispose(r.params);
    }
  });

  it("is deterministic for a seed, and the gate changes what it measures", async () => {
    const a = await fitToClip(initRayZer(random.key(3), model), model, clip, masks, { steps: 3, batch: 2, seed: 5 });
    const b = await fitToClip(initRayZer(random.key(3), model), model, clip, masks, { steps: 3, batch: 2, seed: 5 });
    const none = await fitToClip(initRayZer(random.key(3), model), model, clip, masks.map(() => new Uint8Array(px)), { steps: 1, batch: 2, seed: 5 });
    try {
      assert.deepEqual(a.losses, b.losses);
      assert.equal(a.before, b.before);
      assert.equal(a.after, b.after);
      // the same model on the same windows: gating the movers out changes the measured loss
      assert.notEqual(none.before, a.before);
    } finally {
      for (const r of [a, b, none]) dispose(r.params);
    }
  });

  it("refuses a step count that is not a whole number ≥ 1, in one line", async () => {
    const params = initRayZer(random.key(3), model);
    try {
      await assert.rejects(fitToClip(params, model, clip, masks, { steps: 0 }), /--fit 0: give a whole number of steps ≥ 1/);
    } finally {
      dispose(params);
    }
  });
});
