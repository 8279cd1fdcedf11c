import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, np, randValues, values } from "../helpers/engine.ts";
import { grad, jit, makeJaxpr, random, type Array as JArray } from "@jax-js/jax";
import { makeRng } from "../../src/engine/rng.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { abstractParamCount, dispose, namedLeaves, paramCount, rebuild, ref } from "../../src/engine/params.ts";
import { wasmHeapBytes } from "../../src/engine/workerAdapter.ts";
import { initAdamW, makeTrainStep } from "../../src/engine/optim.ts";
import { MODEL_PRESETS } from "../../src/model/config.ts";
import {
  MOTION_PRESETS,
  MotionConfigSchema,
  checkMotionFitsModel,
  decoderChannels,
  groupsFor,
  upBlocks,
  type MotionConfig,
} from "../../src/model/motionConfig.ts";
import { initMotionEstimator, initUpBlock, runMotionEstimator, runUpBlock, type MotionEstimatorParams } from "../../src/model/motionEstimator.ts";
import { bceWithLogits } from "../../src/train/losses.ts";

before(engine);

const cfg: MotionConfig = MOTION_PRESETS.tiny;
const [B, V, G] = [2, 2, 4]; // tiny: 4×4 tokens per view, 32² output
const H = G * cfg.patch;

type Inputs = { features: Float32Array; tokens: Float32Array; rays: Float32Array };
const featShape = (gf: number) => [B, V, cfg.featureChannels, gf, gf];
const tokShape = [B, V, G * G, cfg.tokenWidth];

function inputs(seed: number, gf = G): Inputs {
  return { features: randValues(seed, featShape(gf)), tokens: randValues(seed + 1, tokShape), rays: randValues(seed + 2, tokShape) };
}

/** Host copies of every leaf, so a params tree can be rebuilt for each consuming call. */
function hostParams(p: MotionEstimatorParams): Promise<Map<string, Float32Array>> {
  return Promise.all(namedLeaves(p).map(async ([name, a]) => [name, (await a.ref.data()) as Float32Array] as const)).then((e) => new Map(e));
}
function fromHost(like: MotionEstimatorParams, host: Map<string, Float32Array>, override?: [string, JArray]): MotionEstimatorParams {
  return rebuild(like, (name, leaf) => (override && name === override[0] ? override[1] : arr(host.get(name)!, leaf.shape)));
}

async function logits(p: MotionEstimatorParams, x: Inputs, gf = G): Promise<number[]> {
  return values(runMotionEstimator(p, arr(x.features, featShape(gf)), arr(x.tokens, tokShape), arr(x.rays, tokShape), cfg));
}

/** Plain-JS reference of the up block on one image [h, w, a] (channels last). */
function upBlockReference(host: Map<string, Float32Array>, x: Float32Array, h: number, w: number, a: number, b: number, groups: number): Float32Array {
  const erf = (z: number) => {
    let sum = 0;
    let term = z;
    for (let n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= (-z * z) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const gelu = (z: number) => 0.5 * z * (1 + erf(z / Math.SQRT2));
  const src = (i: number, n: number) => Math.min(Math.max((i + 0.5) / 2 - 0.5, 0), n - 1); // half-pixel centre
  const H2 = 2 * h;
  const W2 = 2 * w;
  const up = new Float32Array(H2 * W2 * a);
  for (let y = 0; y < H2; y++) {
    for (let xx = 0; xx < W2; xx++) {
      const sy = src(y, h);
      const sx = src(xx, w);
      const [y0, x0] = [Math.floor(sy), Math.floor(sx)];
      const [y1, x1] = [Math.min(y0 + 1, h - 1), Math.min(x0 + 1, w - 1)];
      const [ty, tx] = [sy - y0, sx - x0];
      for (let c = 0; c < a; c++) {
        const at = (yy: number, xv: number) => x[(yy * w + xv) * a + c]!;
        up[(y * W2 + xx) * a + c] = (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x1)) + ty * ((1 - tx) * at(y1, x0) + tx * at(y1, x1));
      }
    }
  }
  const conv = (inp: Float32Array, cin: number, wt: Float32Array, bias: Float32Array, k: number) => {
    const out = new Float32Array(H2 * W2 * b);
    const r = (k - 1) / 2;
    for (let y = 0; y < H2; y++)
      for (let xx = 0; xx < W2; xx++)
        for (let o = 0; o < b; o++) {
          let s = bias[o]!;
          for (let dy = 0; dy < k; dy++)
            for (let dx = 0; dx < k; dx++) {
              const [yy, xv] = [y + dy - r, xx + dx - r];
              if (yy < 0 || yy >= H2 || xv < 0 || xv >= W2) continue;
              for (let c = 0; c < cin; c++) s += inp[(yy * W2 + xv) * cin + c]! * wt[((dy * k + dx) * cin + c) * b + o]!;
            }
          out[(y * W2 + xx) * b + o] = s;
        }
    return out;
  };
  const gnGelu = (inp: Float32Array, gamma: Float32Array, beta: Float32Array) => {
    const out = new Float32Array(inp.length);
    const cg = b / groups;
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let pix = 0; pix < H2 * W2; pix++) for (let j = 0; j < cg; j++) idx.push(pix * b + g * cg + j);
      const mean = idx.reduce((s, i) => s + inp[i]!, 0) / idx.length;
      const variance = idx.reduce((s, i) => s + (inp[i]! - mean) ** 2, 0) / idx.length;
      for (const i of idx) out[i] = gelu(((inp[i]! - mean) / Math.sqrt(variance + cfg.eps)) * gamma[i % b]! + beta[i % b]!);
    }
    return out;
  };
  const g = (k: string) => host.get(k)!;
  const y1 = gnGelu(conv(up, a, g("conv1.weight"), g("conv1.bias"), 1), g("norm1.weight"), g("norm1.bias"));
  return gnGelu(conv(y1, b, g("conv2.weight"), g("conv2.bias"), 3), g("norm2.weight"), g("norm2.bias"));
}

describe("motion config", () => {
  it("presets parse, fit their RayZer presets, and derive the decoder from the patch size", () => {
    for (const [name, c] of Object.entries(MOTION_PRESETS)) assert.ok(MotionConfigSchema.safeParse(c).success, `${name} does not parse`);
    for (const name of ["tiny", "small", "paper"] as const) checkMotionFitsModel(MOTION_PRESETS[name], MODEL_PRESETS[name]);
    const paper = MOTION_PRESETS.paper;
    assert.equal(upBlocks(paper), 4);
    assert.deepEqual(decoderChannels(paper), [384, 192, 96, 48, 24]);
    assert.deepEqual(decoderChannels(paper).map((c) => groupsFor(c, paper)), [32, 32, 32, 16, 8]); // GN(32) … GN(16), GN(8)
    assert.deepEqual(decoderChannels(MOTION_PRESETS.small), [96, 48, 24, 12]);
    assert.equal(MotionConfigSchema.safeParse({ ...cfg, patch: 6 }).success, false);
    assert.equal(MotionConfigSchema.safeParse({ ...cfg, extra: 1 }).success, false);
    assert.throws(() => checkMotionFitsModel(MOTION_PRESETS.small, MODEL_PRESETS.tiny), (e: unknown) => e instanceof WildrayzerError && /tokenWidth 128 must equal the model's d 32/.test(e.message));
  });
  it("counts the parameters the architecture implies (tiny, by formula) and traces the big presets abstractly", () => {
    const count = (c: MotionConfig) => {
      const { d, featureChannels: cf, tokenWidth: t, mlpRatio: r } = c;
      const lin = (i: number, o: number) => i * o + o;
      const conv = (i: number, o: number, k: number) => k * k * i * o + o;
      let n = cf + lin(cf, d) + 2 * (2 * t + lin(t, d)); // branches (feature LN has no bias)
      n += 3 * d + lin(3 * d, d) + lin(d, d); // fusion
      n += c.layers * (2 * d + 3 * d * d + 2 * (d / c.heads) + d * d + 2 * r * d * d); // blocks: 2 LN, qkv, qk-norms, proj, MLP
      n += 2 * d + lin(d, d); // readout
      const ch = decoderChannels(c);
      n += conv(d, ch[0]!, 3) + 2 * ch[0]! + conv(ch[0]!, ch[0]!, 3);
      for (let i = 1; i < ch.length; i++) n += conv(ch[i - 1]!, ch[i]!, 1) + 2 * conv(ch[i]!, ch[i]!, 3) + 6 * ch[i]!;
      return n + conv(ch.at(-1)!, ch.at(-1)!, 3) + conv(ch.at(-1)!, 1, 1);
    };
    const p = initMotionEstimator(random.key(0), cfg);
    assert.equal(paramCount(p), count(cfg));
    dispose(p);
    for (const name of ["small", "paper"] as const) {
      const c = MOTION_PRESETS[name];
      assert.equal(abstractParamCount((k) => initMotionEstimator(k, c)), count(c), name);
    }
  });
  it("the small and paper presets map their token grids to full-size logits (traced abstractly, no compute)", () => {
    for (const [name, g, gf, size] of [["small", 4, 8, 32], ["paper", 16, 16, 256]] as const) {
      const c = MOTION_PRESETS[name];
      const traced = makeJaxpr((k: JArray) =>
        runMotionEstimator(initMotionEstimator(k, c), np.zeros([1, 2, c.featureChannels, gf, gf]), np.zeros([1, 2, g * g, c.tokenWidth]), np.zeros([1, 2, g * g, c.tokenWidth]), c),
      )(random.key(0));
      const outs = (traced.jaxpr as unknown as { jaxpr: { outs: { aval: { shape: number[] } }[] } }).jaxpr.outs.map((o) => o.aval.shape);
      traced.jaxpr.dispose();
      assert.deepEqual(outs, [[1, 2, size, size]], name);
    }
  });
});

describe("motion estimator forward", () => {
  it("with every weight zero but the head's bias, the logits are that bias at every pixel", async () => {
    const p = initMotionEstimator(random.key(1), cfg);
    const zeroed = rebuild(p, (name, leaf) => {
      leaf.dispose();
      return name === "decoder.head.conv2.bias" ? arr([0.37], [1]) : np.zeros(leaf.shape);
    });
    const y = await logits(zeroed, inputs(10));
    assert.equal(y.length, B * V * H * H);
    assertClose(y, new Array(y.length).fill(0.37), 1e-7, 0);
  });
  it("an up block matches a direct computation (bilinear ×2, 1×1 conv, GN, GELU, 3×3 conv, GN, GELU)", async () => {
    const [h, w, a, b, groups] = [2, 3, 4, 6, 3];
    const p = initUpBlock(random.key(2), a, b);
    // non-trivial norm affine parameters
    p.norm1.weight.dispose();
    p.norm1.weight = arr(randValues(20, [b], 0.5, 1.5), [b]);
    p.norm2.bias!.dispose();
    p.norm2.bias = arr(randValues(21, [b], -0.5, 0.5), [b]);
    const host = new Map(await Promise.all(namedLeaves(p).map(async ([n, x]) => [n, (await x.ref.data()) as Float32Array] as const)));
    const x = randValues(22, [1, h, w, a]);
    const y = await values(runUpBlock(p, arr(x, [1, h, w, a]), groups, cfg.eps));
    assertClose(y, upBlockReference(host, x, h, w, a, b, groups), 1e-5, 1e-4);
  });
  it("a feature map on a finer grid is resized bilinearly to the token grid (8² → 4²: the 2×2 block means)", async () => {
    const p = initMotionEstimator(random.key(3), cfg);
    const host = await hostParams(p);
    const fine = inputs(30, 2 * G);
    const pooled = new Float32Array(B * V * cfg.featureChannels * G * G);
    for (let m = 0; m < B * V * cfg.featureChannels; m++)
      for (let y = 0; y < G; y++)
        for (let x = 0; x < G; x++) {
          const at = (yy: number, xx: number) => fine.features[m * 4 * G * G + yy * 2 * G + xx]!;
          pooled[(m * G + y) * G + x] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
        }
    const a = await logits(fromHost(p, host), fine, 2 * G);
    const b = await logits(p, { ...fine, features: pooled }, G);
    assertClose(a, b, 1e-5, 1e-4);
  });
  it("each view's logits depend on its own inputs only (no other view, no other sample)", async () => {
    const p = initMotionEstimator(random.key(4), cfg);
    const host = await hostParams(p);
    const x = inputs(40);
    const base = await logits(fromHost(p, host), x);
    // change view 1 of sample 0 and all of sample 1, in all three inputs
    const other = inputs(50);
    const perView = (a: Float32Array) => a.length / (B * V);
    const mixed = Object.fromEntries(
      Object.entries(x).map(([k, a]: [string, Float32Array]) => {
        const out = a.slice();
        const o = other[k as keyof Inputs];
        out.set(o.subarray(perView(a)), perView(a)); // views (0,1), (1,0), (1,1)
        return [k, out];
      }),
    ) as Inputs;
    const changed = await logits(p, mixed);
    const px = H * H;
    assertClose(changed.slice(0, px), base.slice(0, px), 1e-6, 1e-6, "view (0, 0)");
    for (let view = 1; view < B * V; view++) {
      const diff = Math.max(...changed.slice(view * px, (view + 1) * px).map((c, i) => Math.abs(c - base[view * px + i]!)));
      assert.ok(diff > 1e-4, `view ${view} should change (max diff ${diff})`);
    }
  });
});

describe("motion estimator ownership", () => {
  it("consumes each parameter exactly once, and eager forwards leave the wasm heap flat", async () => {
    const p = initMotionEstimator(random.key(7), cfg);
    const x = inputs(80);
    const heap: number[] = [];
    for (let i = 0; i < 5; i++) {
      await logits(ref(p), x);
      heap.push(wasmHeapBytes());
    }
    const counts = namedLeaves(p).filter(([, a]) => a.refCount !== 1).map(([n, a]) => `${n}: ${a.refCount}`);
    assert.deepEqual(counts, [], "parameters whose reference count changed");
    // A leaked activation per call grows the heap by ~64 kB a call (measured with one stray `.ref` in an up block);
    // without leaks the allocator reuses freed blocks and the heap stays at its size after the first call.
    const growth = (heap.at(-1)! - heap[0]!) / 2 ** 20;
    assert.ok(heap[0]! > 0, "the wasm heap size could not be read");
    assert.ok(growth < 0.1, `wasm heap grew ${growth.toFixed(2)} MB over 4 eager forwards`);
    dispose(p);
  });
});

describe("motion estimator training", () => {
  const target = (b: number, v: number) =>
    new Float32Array(b * v * H * H).map((_, i) => {
      const [y, x] = [Math.floor((i % (H * H)) / H), i % H];
      return y >= 8 && y < 20 && x >= 12 && x < 28 ? 1 : 0; // a moving box, 18.75% of the pixels
    });

  it("the BCE gradient matches finite differences on parameters across the model", async () => {
    const p = initMotionEstimator(random.key(5), cfg);
    const host = await hostParams(p);
    const [b, v] = [1, 1];
    const fs = [b, v, cfg.featureChannels, G, G];
    const ts = [b, v, G * G, cfg.tokenWidth];
    const [f, t, r, y] = [randValues(60, fs), randValues(61, ts), randValues(62, ts), randValues(63, [b, v, H, H], 0, 1)];
    const loss = (q: MotionEstimatorParams) => bceWithLogits(runMotionEstimator(q, arr(f, fs), arr(t, ts), arr(r, ts), cfg), arr(y, [b, v, H, H]));
    const jitted = jit(loss); // the 16 finite-difference evaluations share one compiled forward
    const lossAt = async (name: string, shape: number[], x: Float32Array) => (await values(jitted(fromHost(p, host, [name, arr(x, shape)]))))[0]!;
    const shapes = new Map(namedLeaves(p).map(([n, a]) => [n, a.shape]));
    const grads = new Map(namedLeaves(grad(loss)(fromHost(p, host))));
    const rng = makeRng(64);
    for (const name of ["features.proj.weight", "blocks.0.qkv.weight", "readout.proj.weight", "decoder.stages.1.up.conv2.weight"]) {
      const shape = shapes.get(name)!;
      const x0 = host.get(name)!;
      const analytic = await values(grads.get(name)!);
      grads.delete(name);
      const gNorm = Math.hypot(...analytic);
      // GroupNorm makes the loss curve sharply in weights far below their own scale, so each step is 0.2% of the
      // leaf's norm. Directions: the gradient's own (a wrong gradient cannot match there, by Cauchy–Schwarz) and
      // a random one; the tolerance is 2% of the gradient's norm.
      const eps = 0.002 * Math.max(Math.hypot(...x0), 1e-1);
      const randomDir = Array.from(x0, () => rng.uniform(-1, 1));
      for (const [label, dir] of [["gradient", analytic], ["random", randomDir]] as const) {
        const norm = Math.hypot(...dir);
        const u = dir.map((e) => e / norm);
        const fp = await lossAt(name, shape, Float32Array.from(x0, (e, i) => e + eps * u[i]!));
        const fm = await lossAt(name, shape, Float32Array.from(x0, (e, i) => e - eps * u[i]!));
        const numeric = (fp - fm) / (2 * eps);
        const slope = analytic.reduce((s, e, i) => s + e * u[i]!, 0);
        assert.ok(Math.abs(slope - numeric) <= 0.02 * gNorm, `${name}, ${label} direction: analytic ${slope}, finite difference ${numeric} (|g| ${gNorm})`);
      }
    }
    dispose([p, [...grads.values()]]);
    jitted.dispose();
  });
  it("a few Adam steps on a fixed batch and mask lower the BCE by 30%, and below the best constant guess", async () => {
    const [b, v] = [1, 2];
    const fs = [b, v, cfg.featureChannels, G, G];
    const ts = [b, v, G * G, cfg.tokenWidth];
    const [f, t, r, y] = [randValues(70, fs), randValues(71, ts), randValues(72, ts), target(b, v)];
    type Batch = { features: JArray; tokens: JArray; rays: JArray; target: JArray };
    const batch = (): Batch => ({ features: arr(f, fs), tokens: arr(t, ts), rays: arr(r, ts), target: arr(y, [b, v, H, H]) });
    const step = makeTrainStep(
      (p: MotionEstimatorParams, bt: Batch) => bceWithLogits(runMotionEstimator(p, bt.features, bt.tokens, bt.rays, cfg), bt.target),
      { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clipNorm: 1, warmupSteps: 0, totalSteps: 100, minLrRatio: 1 },
    );
    const params = initMotionEstimator(random.key(6), cfg);
    let state = { params, opt: initAdamW(params) };
    const losses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const [next, m] = step(state, batch());
      state = next;
      losses.push((await values(m.loss))[0]!);
      dispose([m.gradNorm, m.lr]);
    }
    // A constant logit can do no better than the entropy of the positive rate q: a box needs the spatial inputs.
    const q = 0.1875;
    const constantBest = -(q * Math.log(q) + (1 - q) * Math.log(1 - q));
    assert.ok(losses.at(-1)! < 0.7 * losses[0]! && losses.at(-1)! < constantBest, `BCE ${losses[0]} → ${losses.at(-1)} (constant best ${constantBest})`);
    dispose(state);
  });
});
