import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { engine } from "../helpers/engine.ts";
import { dispose } from "../../src/engine/params.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { MODEL_PRESETS, type ModelConfig } from "../../src/model/config.ts";
import { MOTION_PRESETS } from "../../src/model/motionConfig.ts";
import { initRayZer } from "../../src/model/rayzer.ts";
import { describeTokenMasks, droppedFraction, inputKeep, makeInputMasker, masksByDefault, resolveTokenMasks, tokenMaskRuntime, tokenMasksFor } from "../../src/pipeline/maskedInputs.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateScene } from "../../src/data/synth/index.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { loadMobilenetV2 } from "../../src/features/mobilenetV2.ts";
import { tokenKeep } from "../../src/model/maskedTokens.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { makeForward } from "../../src/pipeline/forward.ts";
import { MASK_TAP } from "../../src/pipeline/maskTap.ts";
import { makeMotionPass, motionProbabilities } from "../../src/pipeline/motion.ts";
import { clipPseudoMasks, maskWindows } from "../../src/pipeline/clipMasks.ts";
import { saveTinyWildrayzer } from "../helpers/checkpoint.ts";

before(engine);

const base: ModelConfig = MODEL_PRESETS.tiny;
const withMotion: ModelConfig = { ...base, motion: { ...MOTION_PRESETS.tiny, tokenWidth: base.d, patch: base.patch } };

describe("the stage rule", () => {
  it("masks by default only a stage-3 model with a motion estimator; --token-masks overrides; motion without an estimator is a user error", () => {
    const plain = initRayZer(random.key(1), base);
    const wild = initRayZer(random.key(1), withMotion);
    assert.equal(masksByDefault(3, wild, withMotion), true);
    assert.equal(masksByDefault(2, wild, withMotion), false, "a stage-2 renderer never saw masked tokens");
    assert.equal(masksByDefault(1, wild, withMotion), false);
    assert.equal(masksByDefault(3, plain, base), false, "no estimator, no masks");
    assert.equal(resolveTokenMasks(undefined, 3, wild, withMotion, "m.safetensors"), "motion");
    assert.equal(resolveTokenMasks(undefined, 2, wild, withMotion, "m.safetensors"), "none");
    assert.equal(resolveTokenMasks("none", 3, wild, withMotion, "m.safetensors"), "none");
    assert.equal(resolveTokenMasks("motion", 2, wild, withMotion, "m.safetensors"), "motion");
    assert.throws(
      () => resolveTokenMasks("motion", 3, plain, base, "m.safetensors"),
      (e: unknown) => e instanceof WildrayzerError && /^--token-masks motion: m\.safetensors has no motion estimator/.test(e.message),
    );
    assert.equal(describeTokenMasks("motion", undefined, 3, 0.25), "input tokens masked by the motion estimator (the stage-3 default, 25.0 % of the input tokens replaced)");
    assert.equal(describeTokenMasks("none", undefined, 2), "input tokens not masked (the stage-2 default)");
    assert.equal(describeTokenMasks("none", "none", 3), "input tokens not masked (--token-masks)");
    dispose([plain, wild]);
  });
  it("a noise-token model masks on jax (ONNX exports zeros only); otherwise the runtime asked for", () => {
    assert.equal(tokenMaskRuntime({ ...base, maskedTokens: "noiseToken" }, true, "onnx"), "jax");
    assert.equal(tokenMaskRuntime({ ...base, maskedTokens: "noiseToken" }, false, "onnx"), "onnx");
    assert.equal(tokenMaskRuntime({ ...base, maskedTokens: "zero" }, true, "onnx"), "onnx");
  });
});

describe("input keep-masks", () => {
  // 8×8 views, patch 4 → 4 tokens per view; the top-left patch of some views moves: `count` of its 16 pixels
  const cfg: ModelConfig = { ...base, imageSize: 8, patch: 4, views: 4, inputViews: 2 };
  const [b, v, h, w] = [2, 4, 8, 8];
  const maps = new Float32Array(b * v * h * w);
  const moving: [number, number, number][] = [[0, 1, 1], [0, 2, 4], [1, 0, 2], [1, 3, 16]]; // [sample, view, count]
  for (const [i, j, count] of moving) for (let p = 0; p < count; p++) maps[(i * v + j) * 64 + Math.floor(p / 4) * 8 + (p % 4)] = 1;
  it("pools the input views' maps per patch (fraction > 0.1 dropped): the first k views, or the gcd split's inputs", () => {
    // first split, inputs views 0, 1: sample 0 → 0 and 1/16 (kept); sample 1 → 2/16 (dropped) and 0
    const first = inputKeep(maps, cfg, [b, v, 3, h, w]);
    assert.deepEqual([...first], [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]);
    // gcd split with k 2 of 4: inputs views 0 and 2 → sample 0: 0 and 4/16 (dropped); sample 1: 2/16 (dropped) and 0
    const gcd = inputKeep(maps, { ...cfg, viewSplit: "gcd" }, [b, v, 3, h, w]);
    assert.deepEqual([...gcd], [1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]);
    const strict = inputKeep(maps, cfg, [b, v, 3, h, w], 0.2);
    assert.deepEqual([...strict], new Array<number>(16).fill(1), "nothing above 0.2 in the first two views");
    assert.equal(droppedFraction(first), 1 / 16);
    assert.equal(droppedFraction(undefined), 0);
  });
  it("tokenMasksFor: oracle reads the batch's masks, none gives no keep-mask, motion without its pass is refused", async () => {
    const host = { images: new Float32Array(b * v * 3 * h * w), shape: [b, v, 3, h, w] as [number, number, number, number, number], masks: maps };
    const params = initRayZer(random.key(2), cfg);
    const oracle = await tokenMasksFor("oracle", null, params, cfg, null, host);
    assert.deepEqual([...oracle.keep!], [...inputKeep(maps, cfg, host.shape)]);
    assert.equal(oracle.probs, null);
    const none = await tokenMasksFor("none", null, params, cfg, null, host);
    assert.equal(none.keep, undefined);
    await assert.rejects(tokenMasksFor("motion", null, params, cfg, null, host), /need its pass and the feature extractor/);
    dispose(params);
  });
});

describe("the masker in a rendering path", () => {
  it("clipPseudoMasks with a masker renders every window from its inputs' masked tokens (by hand: probabilities → keep → forward)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wrz-masked-inputs-"));
    try {
      const file = join(dir, "s3.safetensors");
      await saveTinyWildrayzer(file, 3);
      const { params, meta } = loadModel(file);
      const model = meta.model;
      const scene = generateScene(5, { ...RUN_PRESETS.tiny.data, frames: 6, movers: [1, 2] });
      const fx = await loadMobilenetV2();
      const masker = makeInputMasker(params, model, fx);
      const got = await clipPseudoMasks(params, model, scene, fx, MASK_TAP, { masker, runtime: "jax" });
      masker.dispose();
      const { h, w } = scene;
      const img = 3 * h * w;
      const pass = makeMotionPass(model);
      const fwd = makeForward(model);
      const windows = maskWindows(scene.frames.length, model.views);
      assert.equal(got.windows.length, windows.length);
      const drops: number[] = [];
      const change: number[] = [];
      for (const [i, win] of windows.entries()) {
        const x = new Float32Array(model.views * img);
        [...win.inputs, ...win.targets].forEach((f, j) => x.set(scene.frames[f]!.image, j * img));
        const shape: [number, number, number, number, number] = [1, model.views, 3, h, w];
        const probs = await motionProbabilities(pass, params, model, fx, MASK_TAP, x, shape);
        const keep = tokenKeep(probs.subarray(0, 2 * h * w), 2, h, w, model.patch);
        drops.push(droppedFraction(keep));
        const { renders } = await fwd.estimate(params, x, shape, { keep });
        const plain = await fwd.estimate(params, x, shape);
        win.targets.forEach((_, j) => {
          const want = renders.subarray(j * img, (j + 1) * img);
          const d = got.windows[i]!.renders[j]!.reduce((m, v, q) => Math.max(m, Math.abs(v - want[q]!)), 0);
          assert.ok(d <= 1e-6, `window ${i} target ${j}: ${d} from the masked forward`);
          change.push(want.reduce((m, v, q) => Math.max(m, Math.abs(v - plain.renders[j * img + q]!)), 0));
        });
      }
      assert.ok(Math.max(...change) > 1e-3, `masking changes the renders (${Math.max(...change)})`);
      assert.ok(drops.some((d) => d > 0) && drops.every((d) => d < 1), `some tokens dropped in some window, never all (${drops})`);
      pass.dispose();
      fwd.dispose();
      fx.dispose();
      dispose(params);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
