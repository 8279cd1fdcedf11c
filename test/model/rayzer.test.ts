import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertClose, engine, np, randValues, values } from "../helpers/engine.ts";
import { grad, random, type Array as JArray } from "@jax-js/jax";
import { MODEL_PRESETS, ModelConfigSchema, type ModelConfig } from "../../src/model/config.ts";
import { initRayZer, runRayZer, type RayZerParams } from "../../src/model/rayzer.ts";
import { positionTable, sinCos } from "../../src/model/tokens.ts";
import { abstractParamCount, dispose, namedLeaves, paramCount, ref } from "../../src/engine/params.ts";
import { initAdamW, makeTrainStep } from "../../src/engine/optim.ts";

before(engine);

const cfg: ModelConfig = MODEL_PRESETS.tiny;
const shape = [2, cfg.views, 3, cfg.imageSize, cfg.imageSize];

describe("model config", () => {
  it("presets parse with the strict schema and bad values are rejected", () => {
    for (const [name, c] of Object.entries(MODEL_PRESETS)) assert.ok(ModelConfigSchema.safeParse(c).success, `${name} does not parse`);
    assert.equal(ModelConfigSchema.safeParse({ ...cfg, patch: 5 }).success, false);
    assert.equal(ModelConfigSchema.safeParse({ ...cfg, extra: 1 }).success, false);
    assert.equal(ModelConfigSchema.safeParse({ ...cfg, inputViews: cfg.views }).success, false);
    // configs stored before cameraRegisters existed still load, with no registers
    const { cameraRegisters: _unused, ...old } = MODEL_PRESETS.small;
    assert.equal(ModelConfigSchema.parse(old).cameraRegisters, 0);
  });
});

describe("positional embedding", () => {
  it("sinCos matches E_m(pos) = [sin(pos·ω), cos(pos·ω)] with ω_i = 10000^(−i/(m/2))", () => {
    const e = sinCos(4, [3]);
    assertClose(Array.from(e), [Math.sin(3), Math.sin(3 / 100), Math.cos(3), Math.cos(3 / 100)], 1e-6, 1e-6);
  });
  it("puts column, row and (optionally) view codes in their quarters/half", () => {
    const c = { ...cfg, viewIndexEmbedding: true };
    const t = positionTable(c);
    const d = c.d;
    const n = (c.imageSize / c.patch) ** 2;
    const token = 1 * n + 5; // view 1, token 5 = row 1, col 1 on a 4×4 grid
    assertClose(Array.from(t.subarray(token * d, token * d + d / 4)), Array.from(sinCos(d / 4, [1])), 0, 0);
    assertClose(Array.from(t.subarray(token * d + d / 2, token * d + d)), Array.from(sinCos(d / 2, [1])), 0, 0);
    const off = positionTable({ ...c, viewIndexEmbedding: false });
    assert.ok(off.subarray(token * d + d / 2, token * d + d).every((x) => x === 0), "view half must be zero when off");
  });
});

describe("RayZer forward", () => {
  it("renders the targets in [0, 1], view 0 at the identity and one shared focal near focalInit", async () => {
    const params = initRayZer(random.key(0), cfg);
    assert.ok(paramCount(params) > 10_000, `tiny has ${paramCount(params)} params`);
    const out = runRayZer(params, np.array(randValues(1, shape, 0, 1)).reshape(shape), cfg);
    assert.deepEqual(out.renders.shape, [2, cfg.views - cfg.inputViews, 3, cfg.imageSize, cfg.imageSize]);
    const r = await values(out.renders);
    assert.ok(r.every((x) => x > 0 && x < 1), "renders outside (0, 1)");
    const c2w = await values(out.cameras.c2w);
    assertClose(c2w.slice(0, 16), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 1e-6, 0, "view 0");
    // other views: valid rotations (orthonormal columns), last row 0 0 0 1
    const v1 = c2w.slice(16, 32);
    const col = (j: number) => [v1[j]!, v1[4 + j]!, v1[8 + j]!];
    for (const [a, b] of [[0, 0], [1, 1], [2, 2], [0, 1], [1, 2]] as const) {
      const dot = col(a).reduce((s, x, i) => s + x * col(b)[i]!, 0);
      assertClose([dot], [a === b ? 1 : 0], 1e-5, 0, `columns ${a}·${b}`);
    }
    assertClose(v1.slice(12), [0, 0, 0, 1], 0, 0, "last row");
    const k = await values(out.cameras.fxfycxcy);
    for (let i = 0; i < k.length; i += 4) {
      const first = k[Math.floor(i / (4 * cfg.views)) * 4 * cfg.views]!; // view 0 of the same sample
      assertClose([k[i]!, k[i + 1]!, k[i + 2]!, k[i + 3]!], [first, first, 0.5, 0.5], 1e-6, 0, "focal shared by a sample's views");
    }
    assertClose([k[0]!], [cfg.focalInit], 0.3, 0, "focal near init");
  });

  it("cameraHeadStd 1e-3 (the official RayZer's head init) starts every view at the canonical pose with the default focal; 0.02 does not", async () => {
    const x = randValues(9, shape, 0, 1);
    const start = async (cameraHeadStd: number) => {
      const c = { ...cfg, cameraHeadStd };
      const params = initRayZer(random.key(4), c);
      const w = await values(params.cameraEstimator.poseHead.fc2.weight.ref);
      const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
      const out = runRayZer(params, np.array(x).reshape(shape), c);
      out.renders.dispose();
      const c2w = await values(out.cameras.c2w);
      const k = await values(out.cameras.fxfycxcy);
      let worst = 0;
      for (let v = 0; v < c2w.length / 16; v++) for (let i = 0; i < 16; i++) worst = Math.max(worst, Math.abs(c2w[16 * v + i]! - (i % 5 === 0 ? 1 : 0)));
      return { std, worst, focal: Math.max(...Array.from(k.filter((_, i) => i % 4 === 0), (f) => Math.abs(f - cfg.focalInit))) };
    };
    const small = await start(1e-3);
    const usual = await start(0.02);
    // truncated normals: the std is a little below the nominal one
    assert.ok(small.std > 0.7e-3 && small.std < 1e-3, `head weight std ${small.std}`);
    assert.ok(usual.std > 0.014 && usual.std < 0.02, `head weight std ${usual.std}`);
    assert.ok(small.worst < 1e-3, `every view within 1e-3 of the identity: ${small.worst}`);
    assert.ok(small.focal < 1e-3, `focal within 1e-3 of focalInit: ${small.focal}`);
    assert.ok(usual.worst > 10 * small.worst, `the usual init starts farther from the identity: ${usual.worst} vs ${small.worst}`);
    // older configs (before the option) load with the usual init
    const { cameraHeadStd: _unused, ...old } = MODEL_PRESETS.small;
    assert.equal(ModelConfigSchema.parse(old).cameraHeadStd, 0.02);
  });

  it("the camera estimator tells views apart only with the view code: off, every non-canonical view gets one pose", async () => {
    // the same weights and images, view code on (the presets) and off (the ablation): camera tokens are all alike
    // and image tokens carry no view, so without the code attention cannot say which image a token stands for
    const x = randValues(7, shape, 0, 1);
    const poses = async (viewIndexEmbedding: boolean) => {
      const c = { ...cfg, viewIndexEmbedding };
      const out = runRayZer(initRayZer(random.key(5), c), np.array(x).reshape(shape), c);
      out.renders.dispose();
      out.cameras.fxfycxcy.dispose();
      const m = await values(out.cameras.c2w);
      return Array.from({ length: cfg.views }, (_, j) => m.slice(16 * j, 16 * j + 12)); // sample 0, top 3 rows
    };
    const spread = (ps: number[][]) => Math.max(...ps.slice(2).map((p) => Math.max(...p.map((v, i) => Math.abs(v - ps[1]![i]!)))));
    assert.ok(cfg.viewIndexEmbedding && MODEL_PRESETS.small.viewIndexEmbedding, "the presets use the view code");
    const on = await poses(true);
    const off = await poses(false);
    assert.ok(spread(on) > 100 * spread(off) + 1e-6, `views 2… differ from view 1 by at most ${spread(on)} with the code`);
    assert.ok(spread(off) < 1e-7, `without the code views 2… equal view 1 (spread ${spread(off)})`);
  });

  it("every parameter receives a gradient (nothing is disconnected)", async () => {
    const cfgR = { ...cfg, cameraRegisters: 2 };
    const params = initRayZer(random.key(1), cfgR);
    const imgs = randValues(2, shape, 0, 1);
    const loss = (p: RayZerParams, x: JArray) => {
      const out = runRayZer(p, x.ref, { ...cfgR, viewIndexEmbedding: true });
      dispose(out.cameras);
      return np.mean(np.square(out.renders.sub(x.slice([], [cfg.inputViews])))); 
    };
    const g = grad(loss)(params, np.array(imgs).reshape(shape)) as RayZerParams;
    const dead: string[] = [];
    for (const [name, a] of namedLeaves(g)) {
      const v = await values(a);
      if (!v.some((x) => x !== 0)) dead.push(name);
    }
    // The canonical view's pose offset is masked out, but the head's weights still get gradient from other views.
    assert.deepEqual(dead, []);
  });

  it("overfits one batch: the jitted train step lowers the loss", async () => {
    const params = initRayZer(random.key(2), cfg);
    // Smooth images (a colour gradient per view) that a tiny model can fit in a few dozen steps; uniform noise
    // sits at its mean-image optimum (MSE 1/12) for much longer.
    const [v, , h, w] = shape.slice(1) as [number, number, number, number];
    const x = new Float32Array(v * 3 * h * w);
    for (let i = 0; i < v; i++) for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
      x[((i * 3 + c) * h + y) * w + xx] = 0.5 + 0.4 * Math.sin((c + 1) * (xx / w) * 3 + i * 0.7 + (y / h) * (2 - c));
    }
    const step = makeTrainStep(
      (p: RayZerParams, b: { x: JArray }) => {
        const out = runRayZer(p, b.x.ref, cfg);
        dispose(out.cameras);
        return np.mean(np.square(out.renders.sub(b.x.slice([], [cfg.inputViews]))));
      },
      { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05, clipNorm: 1, warmupSteps: 5, totalSteps: 60, minLrRatio: 0.1 },
    );
    let state = { params, opt: initAdamW(params) };
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const [next, m] = step(state, { x: np.array(x).reshape([1, ...shape.slice(1)]) });
      state = next;
      losses.push((await values(m.loss))[0]!);
      dispose([m.gradNorm, m.lr]);
    }
    assert.ok(losses.at(-1)! < 0.5 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
    dispose(ref(state));
    dispose(state);
  });
});

describe("parameter count", () => {
  /** The architecture's parameter count written out by hand (docs/METHOD.md §2 shapes). */
  function expectedCount(c: ModelConfig): number {
    const { d, patch: p, sceneTokens: S } = c;
    const dh = d / c.heads;
    const block = 3 * d * d + d * d + 2 * d * (c.mlpRatio * d) + 2 * d + 2 * dh; // qkv, proj, mlp, 2 LN, QK norms
    const peMlp = 2 * (d * d + d);
    const tokenizer = p * p * 3 * d + peMlp;
    const camera = d + peMlp + c.layers.camera * block + (d * d + d + d + 1) + (2 * d * d + d + 9 * d + 9) + c.cameraRegisters * d;
    const encoder = p * p * 6 * d + (2 * d + 2 * d * d + d + d * d + d) + S * d + c.layers.encoder * block;
    const renderer = p * p * 6 * d + d + c.layers.renderer * block + d + d * p * p * 3;
    return tokenizer + camera + encoder + renderer;
  }
  it("matches the hand count for tiny (real init), small with its register tokens, and paper (abstract trace)", () => {
    assert.equal(abstractParamCount((k) => initRayZer(k, MODEL_PRESETS.small)), expectedCount(MODEL_PRESETS.small));
    assert.equal(MODEL_PRESETS.small.cameraRegisters, 2);
    const p = initRayZer(random.key(4), cfg);
    assert.equal(paramCount(p), expectedCount(cfg));
    dispose(p);
    assert.equal(abstractParamCount((k) => initRayZer(k, MODEL_PRESETS.tiny)), expectedCount(MODEL_PRESETS.tiny));
    assert.equal(abstractParamCount((k) => initRayZer(k, MODEL_PRESETS.paper)), expectedCount(MODEL_PRESETS.paper));
  });
});

describe("pooled camera tokens (cameraPool)", () => {
  it("averages 2×2 blocks of the row-major token grid (hand-computed)", async () => {
    const { poolTokens } = await import("../../src/model/cameraEstimator.ts");
    // b 1, v 1, a 4×4 grid, d 2: token (y, x) = [10y + x, −(10y + x)]
    const data = Array.from({ length: 16 }, (_, i) => [10 * Math.floor(i / 4) + (i % 4), -(10 * Math.floor(i / 4) + (i % 4))]).flat();
    const pooled = await values(poolTokens(np.array(data).reshape([1, 1, 16, 2]), 4, 2));
    // block (0,0): tokens 0,1,10,11 → 5.5; (0,1): 2,3,12,13 → 7.5; (1,0): 20,21,30,31 → 25.5; (1,1): 27.5
    assertClose(pooled, [5.5, -5.5, 7.5, -7.5, 25.5, -25.5, 27.5, -27.5], 1e-6, 1e-6, "pooled");
  });

  it("a 4-px model with pool 2 runs, its camera estimator sees the pooled grid, and it trains", async () => {
    const cfg = ModelConfigSchema.parse({ ...MODEL_PRESETS.tiny, patch: 4, cameraPool: 2 });
    assert.throws(() => ModelConfigSchema.parse({ ...MODEL_PRESETS.tiny, patch: 4, cameraPool: 3 }), /cameraPool must divide/);
    const params = initRayZer(random.key(2), cfg);
    const x = np.array(randValues(31, [2, cfg.views, 3, 32, 32], 0, 1)).reshape([2, cfg.views, 3, 32, 32]);
    // the estimator's result equals running it on tokens pooled by hand with pool 1
    const { runCameraEstimator, poolTokens } = await import("../../src/model/cameraEstimator.ts");
    const { runTokenizer } = await import("../../src/model/tokens.ts");
    const tokens = runTokenizer(ref(params.tokenizer), x.ref, cfg);
    const a = runCameraEstimator(ref(params.cameraEstimator), tokens.ref, cfg);
    const b = runCameraEstimator(ref(params.cameraEstimator), poolTokens(tokens, 8, 2), { ...cfg, cameraPool: 1 });
    assertClose(await values(a.c2w), await values(b.c2w), 1e-6, 1e-6, "c2w");
    dispose([a.fxfycxcy, b.fxfycxcy]);
    const loss = (p: RayZerParams) => np.mean(np.square(runRayZer(p, x.ref, cfg).renders.sub(0.5)));
    const g = grad(loss)(ref(params));
    const norms = await Promise.all(namedLeaves(g).map(async ([, t]) => (await values(np.sqrt(np.sum(np.square(t))))) [0]!));
    assert.ok(norms.every((v) => Number.isFinite(v)) && norms.some((v) => v > 0), `finite, nonzero gradients: ${norms.length} leaves`);
    dispose([params, x]);
  });
});
