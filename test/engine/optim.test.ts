import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, np, randValues, values } from "../helpers/engine.ts";
import { numpy as jnp, random, type Array as JArray } from "@jax-js/jax";
import {
  adamwUpdate,
  clipByGlobalNorm,
  initAdamW,
  learningRate,
  learningRateArray,
  makeTrainStep,
  type AdamWConfig,
} from "../../src/engine/optim.ts";
import { dispose, ref } from "../../src/engine/params.ts";
import { wasmHeapBytes } from "../../src/engine/workerAdapter.ts";
import { initBlock, linear, runBlock, type BlockConfig, type BlockParams, type Linear } from "../../src/engine/layers.ts";

before(engine);

const cfg: AdamWConfig = {
  lr: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  clipNorm: 0,
  warmupSteps: 0,
  totalSteps: 100,
  minLrRatio: 1,
};

describe("learning-rate schedule", () => {
  const s: AdamWConfig = { ...cfg, lr: 1, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 };
  it("warms up linearly, then follows a cosine to minLrRatio", () => {
    assert.equal(learningRate(0, s), 0.25);
    assert.equal(learningRate(3, s), 1);
    assert.equal(learningRate(4, s), 1); // cosine start
    assertClose([learningRate(9, s)], [0.1 + 0.9 * 0.5], 1e-12, 0); // halfway: cos(π/2) = 0
    assertClose([learningRate(14, s), learningRate(500, s)], [0.1, 0.1], 1e-12, 0);
  });
  it("computes the same values inside the graph", async () => {
    for (const step of [0, 2, 4, 7, 9, 14, 30]) {
      assertClose(await values(learningRateArray(jnp.array(step), s)), [learningRate(step, s)], 1e-6, 1e-6, `step ${step}`);
    }
  });
});

describe("global-norm clipping", () => {
  it("rescales to the max norm and reports the norm before clipping", async () => {
    const { grads, norm } = clipByGlobalNorm({ a: arr([3], [1]), b: arr([0, 4], [2]) }, 1);
    assertClose(await values(norm), [5]);
    assertClose([...(await values(grads.a)), ...(await values(grads.b))], [0.6, 0, 0.8], 1e-6, 1e-6);
  });
  it("leaves small gradients alone", async () => {
    const { grads, norm } = clipByGlobalNorm({ a: arr([0.3, 0.4], [2]) }, 1);
    norm.dispose();
    assertClose(await values(grads.a), [0.3, 0.4], 1e-7, 1e-6);
  });
});

describe("AdamW", () => {
  it("matches a hand-computed first and second step, with decoupled decay on matrices only", async () => {
    const params = { w: arr([1, 1], [1, 2]), b: arr([2], [1]) };
    let opt = initAdamW(params);
    const c = { ...cfg, weightDecay: 0.5 };
    // step 1: m = 0.1 g, v = 0.001 g²; bias-corrected m̂ = g, v̂ = g², so the Adam step is sign(g) = 1.
    let s = adamwUpdate(params, { w: arr([0.5, -2], [1, 2]), b: arr([0.5], [1]) }, opt, jnp.array(0.1), c);
    // w: 1 − 0.1·(±1 + 0.5·1); b (1-D, no decay): 2 − 0.1
    assertClose(await values(s.params.w.ref), [1 - 0.1 * 1.5, 1 - 0.1 * (-1 + 0.5)], 1e-6, 1e-6);
    assertClose(await values(s.params.b.ref), [1.9], 1e-6, 1e-6);
    // step 2 on b with gradient 1: m = 0.9·0.05 + 0.1 = 0.145, v = 0.999·0.00025 + 0.001 = 0.00124975
    opt = s.opt;
    const m = 0.145 / (1 - 0.9 ** 2);
    const v = 0.00124975 / (1 - 0.999 ** 2);
    s = adamwUpdate(s.params, { w: arr([0, 0], [1, 2]), b: arr([1], [1]) }, opt, jnp.array(0.1), c);
    assertClose(await values(s.params.b), [1.9 - 0.1 * (m / (Math.sqrt(v) + 1e-8))], 1e-6, 1e-6);
    assertClose(await values(s.opt.step), [2]);
    dispose([s.params.w, s.opt.mu, s.opt.nu]);
  });
  it("keeps frozen leaves and their moments unchanged", async () => {
    const params = { enc: { w: arr([1, 2], [2]) }, dec: { w: arr([3], [1]) } };
    const s = adamwUpdate(params, { enc: { w: arr([1, 1], [2]) }, dec: { w: arr([1], [1]) } }, initAdamW(params), jnp.array(0.1), cfg, (n) =>
      n.startsWith("enc."),
    );
    assert.deepEqual(await values(s.params.enc.w), [1, 2]);
    assert.deepEqual(await values(s.opt.mu.enc.w), [0, 0]);
    assertClose(await values(s.params.dec.w), [2.9], 1e-6, 1e-6);
    dispose([s.opt.step, s.opt.mu.dec, s.opt.nu]);
  });
});

describe("jitted train step", () => {
  type P = { lin: Linear };
  type B = { x: JArray; y: JArray };
  const lossFn = (p: P, b: B) => np.mean(np.square(linear(p.lin, b.x).sub(b.y)));
  const xs = randValues(1, [16, 3]);
  const wTrue = [0.5, -1, 2];
  const ys = Float32Array.from({ length: 16 }, (_, i) => wTrue.reduce((s, w, j) => s + w * xs[i * 3 + j]!, 0.25));
  const batch = (): B => ({ x: arr(xs, [16, 3]), y: arr(ys, [16, 1]) });
  const init = (): P => ({ lin: { weight: np.zeros([3, 1]), bias: np.zeros([1]) } });

  it("fits a linear regression (the loss falls by 100×)", async () => {
    const step = makeTrainStep(lossFn, { ...cfg, lr: 0.05, clipNorm: 1, warmupSteps: 5, totalSteps: 300, minLrRatio: 0.1 });
    const params = init();
    let state = { params, opt: initAdamW(params) };
    const losses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const [next, m] = step(state, batch());
      state = next;
      losses.push((await values(m.loss))[0]!);
      dispose([m.gradNorm, m.lr]);
    }
    assert.ok(losses.at(-1)! < losses[0]! / 100, `loss ${losses[0]} → ${losses.at(-1)}`);
    assertClose(await values(state.params.lin.weight), wTrue, 0.05, 0);
    dispose([state.params.lin.bias!, state.opt]);
  });
  it("gives the same numbers jitted and eagerly", async () => {
    const c = { ...cfg, lr: 0.05, clipNorm: 0.5, weightDecay: 0.1 };
    const run = async (jit: boolean) => {
      const step = makeTrainStep(lossFn, c, undefined, { jit });
      const params = init();
      let state = { params, opt: initAdamW(params) };
      for (let i = 0; i < 3; i++) {
        const [next, m] = step(state, batch());
        state = next;
        dispose(m);
      }
      const w = await values(state.params.lin.weight.ref);
      dispose(state);
      return w;
    };
    assertClose(await run(true), await run(false), 1e-6, 1e-5);
  });
});

describe("memory", () => {
  it("stays flat over eager train steps of a small transformer (guards against stray .ref leaks)", async () => {
    const bc: BlockConfig = { d: 64, heads: 4, mlpRatio: 4, eps: 1e-5 };
    type P = { blocks: BlockParams[] };
    const lossFn = (p: P, b: { x: JArray }) => {
      let h = b.x.ref;
      for (const blk of p.blocks) h = runBlock(blk, h, bc);
      return np.mean(np.square(h.sub(b.x)));
    };
    const [k1, k2] = random.split(random.key(3), 2) as unknown as [JArray, JArray];
    const params: P = { blocks: [initBlock(k1, bc), initBlock(k2, bc)] };
    const step = makeTrainStep(lossFn, { ...cfg, lr: 1e-3, clipNorm: 1 }, undefined, { jit: false });
    let state = { params, opt: initAdamW(params) };
    const x = randValues(4, [4, 64, 64]);
    const heap: number[] = [];
    for (let i = 0; i < Number(process.env.MEMSTEPS ?? 14); i++) {
      const [next, m] = step(state, { x: arr(x, [4, 64, 64]) });
      state = next;
      await values(m.loss);
      dispose([m.gradNorm, m.lr]);
      heap.push(wasmHeapBytes());
      if (process.env.MEMSTEPS) console.log(i, (heap.at(-1)! / 2 ** 20).toFixed(1));
    }
    // jax-js's wasm heap only grows. Params ≈ 100k floats (0.4 MB); one [4, 64, 64] activation is 64 kB and a
    // step makes hundreds: leaking any per-step array adds ≥ 10 × 64 kB over the last 10 steps, a leaked copy of
    // the params 4 MB. Without leaks the allocator reuses freed blocks (measured: ~0.3 MB of drift).
    const growth = (heap.at(-1)! - heap[3]!) / 2 ** 20;
    assert.ok(heap[3]! > 0, "the wasm heap size could not be read");
    assert.ok(growth < 0.6, `wasm heap grew ${growth.toFixed(2)} MB over 10 eager steps`);
    dispose(ref(state));
    dispose(state);
  });
});
