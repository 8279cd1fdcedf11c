import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { assertClose, engine, np, randValues, values } from "../helpers/engine.ts";
import { MODEL_PRESETS } from "../../src/model/config.ts";
import { initRayZer, runRayZer, renderFromCameras } from "../../src/model/rayzer.ts";
import { runCameraEstimator } from "../../src/model/cameraEstimator.ts";
import { runTokenizer } from "../../src/model/tokens.ts";
import { dispose, ref } from "../../src/engine/params.ts";
import { blendCameras } from "../../src/train/step.ts";

before(engine);
const cfg = MODEL_PRESETS.tiny;
const shape = [2, cfg.views, 3, cfg.imageSize, cfg.imageSize];

describe("stage-1 loss: the labelled pose warm-up", () => {
  it("blend renders a weight-1 sample with the given cameras and a weight-0 sample with the predicted ones", async () => {
    const params = initRayZer(random.key(4), cfg);
    const x = np.array(randValues(3, shape, 0, 1)).reshape(shape);
    const [b, v] = shape as [number, number];
    // given cameras: a sideways step and a wider focal, different from anything the estimator predicts
    const c2w = Array.from({ length: b * v }, (_, i) => [1, 0, 0, 0.3 * (i % v), 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]).flat();
    const kk = Array.from({ length: b * v }, () => [0.9, 0.9, 0.5, 0.5]).flat();
    const given = () => ({ c2w: np.array(c2w).reshape([b, v, 4, 4]), fxfycxcy: np.array(kk).reshape([b, v, 4]) });
    // what stage1Loss renders: tokens → predicted cameras → blend → scene encoder + renderer
    const p = ref(params);
    const tokens = runTokenizer(p.tokenizer, x.ref, cfg);
    const cams = blendCameras(runCameraEstimator(p.cameraEstimator, tokens.ref, cfg), { ...given(), weight: np.array([1, 0]) });
    const blended = renderFromCameras(p, tokens, cams, cfg);
    const withGiven = runRayZer(ref(params), x.ref, cfg, { cameras: given() });
    const predicted = runRayZer(params, x, cfg);
    const [rb, rg, rp] = [await values(blended), await values(withGiven.renders), await values(predicted.renders)];
    const half = rb.length / 2;
    assertClose(rb.slice(0, half), rg.slice(0, half), 1e-5, 1e-5, "sample 0 uses the given cameras");
    assertClose(rb.slice(half), rp.slice(half), 1e-5, 1e-5, "sample 1 uses the predicted cameras");
    const gap = rg.slice(0, half).reduce((m, g, i) => Math.max(m, Math.abs(g - rp[i]!)), 0);
    assert.ok(gap > 1e-3, `given and predicted cameras render differently (max gap ${gap})`);
    dispose([withGiven.cameras, predicted.cameras]);
  });
});
