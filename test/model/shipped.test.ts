import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { numpy as np } from "@jax-js/jax";
import { engine } from "../helpers/engine.ts";
import { DEFAULT_MODEL } from "../../src/model/loadFile.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { runRayZer } from "../../src/model/rayzer.ts";
import { ref } from "../../src/engine/params.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { HELD_OUT_SEED_START } from "../../src/data/config.ts";
import { makeRng } from "../../src/engine/rng.ts";
import { selectViews } from "../../src/data/sampling.ts";
import { psnrHost } from "../../src/eval/metrics.ts";

before(engine);

describe("the shipped model (models/small.safetensors)", () => {
  it("is in the package and, given its input views and their own cameras, reproduces them far better than the mean image (> 3 dB: half the error)", async () => {
    assert.ok(existsSync(DEFAULT_MODEL), `${DEFAULT_MODEL} is missing: run npm run train:default`);
    const { params, meta } = loadModel(DEFAULT_MODEL);
    const { model, data } = meta;
    const px = 3 * model.imageSize * model.imageSize;
    // the mean-image baseline: the average training frame (what a model on the MSE plateau renders)
    const meanImage = new Float64Array(px);
    let count = 0;
    for (let s = 0; s < 32; s++) {
      for (const f of generateScene(s, data).frames) {
        f.image.forEach((v, i) => (meanImage[i] = meanImage[i]! + v));
        count++;
      }
    }
    const meanF = Float32Array.from(meanImage, (v) => v / count);
    const ours: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < 6; i++) {
      const seed = HELD_OUT_SEED_START + 700 + i;
      const scene = generateScene(seed, data);
      const { inputs, targets } = selectViews(makeRng(seed), scene.frames.length, model.inputViews, model.views);
      const order = [...inputs, ...targets];
      const x = new Float32Array(model.views * px);
      order.forEach((f, j) => x.set(scene.frames[f]!.image, j * px));
      // render the input views themselves, from the cameras the model predicts for them
      const out = runRayZer(ref(params), np.array(x).reshape([1, model.views, 3, model.imageSize, model.imageSize]), model, { render: [0, 1] });
      out.cameras.c2w.dispose();
      out.cameras.fxfycxcy.dispose();
      const r = (await out.renders.data()) as Float32Array;
      for (let j = 0; j < 2; j++) {
        const gt = scene.frames[order[j]!]!.image;
        ours.push(psnrHost(r.subarray(j * px, (j + 1) * px), gt));
        base.push(psnrHost(meanF, gt));
      }
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(avg(ours) > avg(base) + 3, `input views re-rendered at ${avg(ours).toFixed(2)} dB vs the mean image ${avg(base).toFixed(2)} dB`);
  });
});
