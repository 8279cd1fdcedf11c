import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { arr, engine, randValues, values } from "../helpers/engine.ts";
import { ref, dispose, rebuild } from "../../src/engine/params.ts";
import { MODEL_PRESETS, type ModelConfig } from "../../src/model/config.ts";
import { tokenKeep, unionMaps } from "../../src/model/maskedTokens.ts";
import { initSceneEncoder, sceneSequence } from "../../src/model/sceneEncoder.ts";
import { initRayZer } from "../../src/model/rayzer.ts";
import { makeForward, makeStagedForward } from "../../src/pipeline/forward.ts";
import { makeOnnxForward } from "../../src/pipeline/onnxForward.ts";

before(engine);

describe("tokenKeep", () => {
  it("pools each patch to its moving fraction and drops tokens above the threshold, row-major over the grid", () => {
    // one 4×4 view, patch 2 → a 2×2 grid: top-left patch 1/4 moving, top-right 0, bottom-left 2/4, bottom-right 1/4 at 0.4 each
    const m = [
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 1, 0.4, 0],
      [0, 0, 0, 0],
    ].flat();
    // fractions: [0.25, 0, 0.5, 0.1]
    assert.deepEqual([...tokenKeep(m, 1, 4, 4, 2, 0.1)], [0, 1, 0, 1]); // 0.1 is not above 0.1
    assert.deepEqual([...tokenKeep(m, 1, 4, 4, 2, 0.3)], [1, 1, 0, 1]);
    assert.deepEqual([...tokenKeep(m, 1, 4, 4, 2, 0.09)], [0, 1, 0, 0]);
    // a second view is pooled on its own
    const two = [...new Array<number>(16).fill(0), ...m];
    assert.deepEqual([...tokenKeep(two, 2, 4, 4, 2, 0.1)], [1, 1, 1, 1, 0, 1, 0, 1]);
  });
  it("refuses a map whose size is not a multiple of the patch or does not match", () => {
    assert.throws(() => tokenKeep(new Float32Array(15), 1, 3, 5, 2), /multiple of the patch/);
    assert.throws(() => tokenKeep(new Float32Array(15), 1, 4, 4, 2), /15 values/);
  });
  it("unionMaps is the element-wise max", () => {
    assert.deepEqual([...unionMaps([0, 0.5, 1, 0.25], [1, 0.25, 0, 0.25])], [1, 0.5, 1, 0.25]);
  });
});

describe("masked tokens in the scene encoder", () => {
  const base: ModelConfig = MODEL_PRESETS.tiny;
  const [b, k, S] = [2, 2, base.imageSize];
  const n = (S / base.patch) ** 2;
  const d = base.d;
  for (const kind of ["zero", "noiseToken"] as const) {
    it(`replaces exactly the masked input tokens (${kind}) and leaves the others bitwise unchanged`, async () => {
      const cfg: ModelConfig = { ...base, maskedTokens: kind };
      const params = initSceneEncoder(random.key(3), cfg);
      const { blocks: _blocks, ...rest } = params;
      const img = randValues(1, [b, k, n, d]);
      const rays = randValues(2, [b, k, 6, S, S]);
      // a dynamic map with a moving blob in view 1 of sample 0 and view 0 of sample 1
      const dyn = new Float32Array(b * k * S * S);
      for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) dyn[(1 * S + y) * S + x] = 1;
      for (let y = 20; y < 32; y++) for (let x = 16; x < 32; x++) dyn[((2 * S + y) * S) + x] = 1;
      const keep = tokenKeep(dyn, b * k, S, S, cfg.patch);
      const dropped = keep.reduce((s, x) => s + (1 - x), 0);
      assert.ok(dropped >= 4 && dropped < b * k * n - 4, `a few tokens dropped (${dropped})`);
      const plain = sceneSequence(ref(rest), arr(img, [b, k, n, d]), arr(rays, [b, k, 6, S, S]), null, cfg);
      const masked = sceneSequence(ref(rest), arr(img, [b, k, n, d]), arr(rays, [b, k, 6, S, S]), arr(keep, [b, k, n]), cfg);
      const [p, q] = [await values(plain.inputs), await values(masked.inputs)];
      dispose([plain.seq, masked.seq]);
      const noise = kind === "noiseToken" ? await values(params.noiseToken!.ref) : new Array<number>(d).fill(0);
      for (let t = 0; t < b * k * n; t++) {
        const got = q.slice(t * d, (t + 1) * d).map((x) => x + 0); // −0 (a token times 0) equals 0
        const want = keep[t] === 1 ? p.slice(t * d, (t + 1) * d) : noise;
        assert.deepEqual(got, want, `token ${t} (keep ${keep[t]})`);
      }
      dispose(params);
    });
  }
});

describe("the inference forward with a keep-mask", () => {
  it("one graph and block by block agree, and masking changes the renders", async () => {
    const cfg: ModelConfig = { ...MODEL_PRESETS.tiny, maskedTokens: "noiseToken" };
    // weights far from the init (std 0.02 gives near-constant renders that would hide a difference)
    const like = initRayZer(random.key(5), cfg);
    let leafIndex = 0;
    const params = rebuild(like, (_name, leaf) => leaf.ref.add(arr(randValues(100 + leafIndex++, leaf.shape, -0.25, 0.25), leaf.shape)));
    dispose(like);
    const shape: [number, number, number, number, number] = [1, cfg.views, 3, cfg.imageSize, cfg.imageSize];
    const images = randValues(9, shape, 0, 1);
    const n = (cfg.imageSize / cfg.patch) ** 2;
    const keep = Float32Array.from({ length: cfg.inputViews * n }, (_, i) => (i % 5 === 0 ? 0 : 1));
    const [one, staged] = [makeForward(cfg), makeStagedForward(cfg)];
    const a = await one.estimate(params, images, shape, { keep });
    const b = await staged.estimate(params, images, shape, { keep });
    const plain = await one.estimate(params, images, shape);
    one.dispose();
    staged.dispose();
    dispose(params);
    const diff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    assert.ok(diff(a.renders, b.renders) <= 1e-5, `staged vs one graph: ${diff(a.renders, b.renders)}`);
    assert.ok(diff(a.renders, plain.renders) > 1e-4, "the masked tokens change the renders");
    assert.deepEqual(a.c2w, plain.c2w, "masking the scene encoder's tokens leaves the cameras alone");
  });
});

describe("withCameras with a keep-mask", () => {
  it("one graph, block by block and ONNX agree; on the estimated cameras it equals estimate; masking changes the renders (and identity's)", async () => {
    const cfg: ModelConfig = { ...MODEL_PRESETS.tiny, maskedTokens: "zero" };
    const like = initRayZer(random.key(6), cfg);
    let leafIndex = 0;
    const params = rebuild(like, (_name, leaf) => leaf.ref.add(arr(randValues(300 + leafIndex++, leaf.shape, -0.25, 0.25), leaf.shape)));
    dispose(like);
    const b = 2;
    const shape: [number, number, number, number, number] = [b, cfg.views, 3, cfg.imageSize, cfg.imageSize];
    const images = randValues(11, shape, 0, 1);
    const n = (cfg.imageSize / cfg.patch) ** 2;
    // sample 0 drops every third token, sample 1 a block of its second input view
    const keep = Float32Array.from({ length: b * cfg.inputViews * n }, (_, i) => (i < cfg.inputViews * n ? (i % 3 === 0 ? 0 : 1) : i >= (cfg.inputViews + 1) * n && i < (cfg.inputViews + 1) * n + 20 ? 0 : 1));
    const [one, staged, onnx] = [makeForward(cfg), makeStagedForward(cfg), makeOnnxForward(cfg)];
    const est = await one.estimate(params, images, shape, { keep });
    // other cameras than the estimated ones: the estimated ones moved 0.1 along x (a novel-view path)
    const c2w = Float32Array.from(est.c2w, (x, i) => (i % 16 === 3 ? x + 0.1 : x));
    const a = await one.withCameras(params, images, shape, c2w, est.fxfycxcy, { keep });
    const s = await staged.withCameras(params, images, shape, c2w, est.fxfycxcy, { keep });
    const o = await onnx.withCameras(params, images, shape, c2w, est.fxfycxcy, { keep });
    const plain = await one.withCameras(params, images, shape, c2w, est.fxfycxcy);
    const same = await one.withCameras(params, images, shape, est.c2w, est.fxfycxcy, { keep });
    // identity takes the keep-mask too: the staged forward's identity equals one graph's, and differs unmasked
    const [idOne, idStaged, idPlain] = [await one.identity(params, images, shape, { keep }), await staged.identity(params, images, shape, { keep }), await one.identity(params, images, shape)];
    const noise = makeOnnxForward({ ...cfg, maskedTokens: "noiseToken" });
    await assert.rejects(noise.withCameras(params, images, shape, c2w, est.fxfycxcy, { keep }), /zeros only; use the jax runtime/);
    for (const f of [one, staged, onnx, noise]) f.dispose();
    dispose(params);
    const diff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    assert.ok(diff(a, s) <= 1e-5, `staged vs one graph: ${diff(a, s)}`);
    assert.ok(diff(a, o) <= 1e-4, `ONNX vs one graph: ${diff(a, o)}`);
    assert.ok(diff(same, est.renders) <= 1e-5, `withCameras on the estimated cameras vs estimate: ${diff(same, est.renders)}`);
    const img = 3 * cfg.imageSize ** 2 * (cfg.views - cfg.inputViews);
    // each sample's renders change with its own mask
    for (let i = 0; i < b; i++) {
      const d = diff(a.subarray(i * img, (i + 1) * img), plain.subarray(i * img, (i + 1) * img));
      assert.ok(d > 1e-3, `sample ${i}: the masked tokens change the renders (${d})`);
    }
    assert.ok(diff(a, same) > 1e-3, "the given cameras are used");
    assert.ok(diff(idOne, idStaged) <= 1e-5, `identity: staged vs one graph ${diff(idOne, idStaged)}`);
    assert.ok(diff(idOne, idPlain) > 1e-3, "identity: the masked tokens change the renders");
  });
});
