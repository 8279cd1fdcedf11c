import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { engine } from "../helpers/engine.ts";
import { dispose } from "../../src/engine/params.ts";
import { SYNTH_PRESETS, HELD_OUT_SEED_START, type SynthConfig } from "../../src/data/config.ts";
import { packBatch } from "../../src/data/sampling.ts";
import { MODEL_PRESETS } from "../../src/model/config.ts";
import { initRayZer } from "../../src/model/rayzer.ts";
import { tokenKeep } from "../../src/model/maskedTokens.ts";
import { makeForward } from "../../src/pipeline/forward.ts";
import { evaluateStage1, heldOutSamples } from "../../src/eval/evaluate.ts";
import { psnrHost, meanFinite } from "../../src/eval/metrics.ts";
import { ssimHost } from "../../src/eval/ssim.ts";
import { comparisonMarkdown, overlayTokens, withInputs } from "../../src/eval/comparison.ts";

before(engine);

const data: SynthConfig = { ...SYNTH_PRESETS.tiny, frames: 6, movers: [1, 2] };

describe("evaluation on dynamic scenes", () => {
  it("with oracle token masks: the renders of the masked forward, scored on static pixels, against the clean frames, and the token count", async () => {
    const model = { ...MODEL_PRESETS.tiny, views: 6 };
    const params = initRayZer(random.key(2), model);
    const seeds = [HELD_OUT_SEED_START + 5, HELD_OUT_SEED_START + 6];
    const r = await evaluateStage1(params, model, data, { scenes: 2, seeds, tokenMasks: "oracle" });
    // the same by hand: true masks of the inputs → keep → the masked forward → metrics per target
    const { scenes, orders } = heldOutSamples(seeds, data, model);
    const host = packBatch(scenes, orders);
    const [b, v, , h, w] = host.shape;
    const k = model.inputViews;
    const px = h * w;
    const maps = new Float32Array(b * k * px);
    for (let i = 0; i < b; i++) maps.set(host.masks.subarray(i * v * px, (i * v + k) * px), i * k * px);
    const keep = tokenKeep(maps, b * k, h, w, model.patch);
    const fwd = makeForward(model);
    const { renders } = await fwd.estimate(params, host.images, host.shape, { keep });
    fwd.dispose();
    dispose(params);
    const stat: number[] = [];
    const clean: number[] = [];
    const ssimS: number[] = [];
    const nearClean: number[] = [];
    for (let i = 0; i < b; i++)
      for (let j = 0; j < v - k; j++) {
        const frame = scenes[i]!.frames[orders[i]![k + j]!]!;
        const pred = renders.subarray((i * (v - k) + j) * 3 * px, (i * (v - k) + j + 1) * 3 * px);
        const st = Float32Array.from(frame.mask!, (m) => 1 - m);
        stat.push(psnrHost(pred, frame.image, st));
        ssimS.push(ssimHost(pred, frame.image, 3, h, w, st));
        clean.push(psnrHost(pred, frame.static!));
        const f = orders[i]![k + j]!;
        const nearest = orders[i]!.slice(0, k).reduce((a, c) => (Math.abs(c - f) < Math.abs(a - f) ? c : a));
        nearClean.push(psnrHost(scenes[i]!.frames[nearest]!.image, frame.static!));
      }
    assert.ok(Math.abs(r.psnrStatic.model - meanFinite(stat)) < 1e-9, `static-pixel PSNR ${r.psnrStatic.model} vs ${meanFinite(stat)}`);
    assert.ok(Math.abs(r.psnrClean!.model - meanFinite(clean)) < 1e-9, "PSNR against the clean frames");
    assert.ok(Math.abs(r.ssimStatic!.model - meanFinite(ssimS)) < 1e-9, "static-pixel SSIM");
    assert.ok(Math.abs(r.psnrClean!.nearestInput - meanFinite(nearClean)) < 1e-9, "the nearest-input baseline against the clean frames");
    assert.equal(r.tokenMasks!.source, "oracle");
    const dropped = keep.reduce((a, x) => a + (1 - x), 0) / keep.length;
    assert.ok(dropped > 0 && Math.abs(r.tokenMasks!.dropped - dropped) < 1e-12, `dropped ${r.tokenMasks!.dropped} vs ${dropped}`);
    // without masks the renders differ (the masked tokens changed the scene)
    const plain = await evaluateStage1(initRayZer(random.key(2), model), model, data, { scenes: 2, seeds, tokenMasks: "none" });
    assert.notEqual(plain.psnrStatic.model, r.psnrStatic.model);
    assert.equal(plain.tokenMasks!.dropped, 0);
    assert.ok(Number.isNaN(r.maskIoU!.model), "no estimator, no mask IoU");
  });

  it("withInputs moves views from targets to inputs; overlayTokens tints exactly the dropped patches; the table has a row per arm and the baselines", () => {
    const m = withInputs({ ...MODEL_PRESETS.tiny, views: 6 }, 4);
    assert.equal(m.inputViews, 4);
    assert.throws(() => withInputs(MODEL_PRESETS.tiny, 4), /no target/);
    const img = new Float32Array(3 * 4 * 4).fill(0.2);
    const out = overlayTokens(img, Float32Array.from([1, 0, 1, 1]), 4, 4, 2);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) {
        const tinted = y < 2 && x >= 2;
        assert.ok(Math.abs(out[y * 4 + x]! - (tinted ? 0.6 : 0.2)) < 1e-6, `red at ${y},${x}`);
        assert.ok(Math.abs(out[32 + y * 4 + x]! - (tinted ? 0.1 : 0.2)) < 1e-6, `blue at ${y},${x}`);
      }
    const rep = (x: number) => ({
      scenes: 1, targets: 1,
      psnr: { model: x, nearestInput: 1, meanOfInputs: 2, identityCameras: 0, trueCameras: 0 },
      psnrStatic: { model: x + 1, nearestInput: 3, meanOfInputs: 4 },
      ssim: { model: 0, nearestInput: 0, meanOfInputs: 0 },
      rotationErrorDeg: { model: 1.5, identity: 2 }, focal: { model: 1, truth: 1 },
      tokenMasks: { source: "oracle" as const, dropped: 0.25 },
    });
    const md = comparisonMarkdown([
      { arm: "A", inputs: 2, tokenMasks: "none", report: rep(10) },
      { arm: "B", inputs: 2, tokenMasks: "oracle", report: rep(12) },
    ]).split("\n");
    assert.equal(md.length, 2 + 2 + 2);
    assert.match(md[2]!, /^\| 2 \| \*copy the nearest input\* \| \| 3\.00 \|/);
    assert.match(md[5]!, /^\| 2 \| B \| oracle \| 13\.00 \|.* 12\.00 \| {2}\| 25 % \| 1\.50 \|$/);
  });
});
