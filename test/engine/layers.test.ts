import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, gradcheck, np, randValues, values } from "../helpers/engine.ts";
import {
  conv2d,
  groupNorm,
  headWidth,
  initConv2d,
  initBlock,
  layerNorm,
  linear,
  patchify,
  qkNormAttention,
  rmsNorm,
  runBlock,
  runMlp,
  unpatchify,
  upsample2x,
  type BlockConfig,
} from "../../src/engine/layers.ts";
import { resizeBilinear } from "../../src/engine/image.ts";
import { lax, random } from "@jax-js/jax";

before(engine);

const erf = (x: number): number => {
  // Abramowitz–Stegun 7.1.26 is only 1e-7 accurate; use a series good to 1e-12 for |x| < 3.
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

describe("linear", () => {
  it("computes x @ W + b on a hand-made case", async () => {
    const p = { weight: arr([1, 2, 3, 4, 5, 6], [2, 3]), bias: arr([0.5, -1, 0], [3]) };
    const y = linear(p, arr([1, 1, 2, -1], [2, 2]));
    // [1,1]@W = [5,7,9] + b; [2,-1]@W = [-2,-1,0] + b
    assertClose(await values(y), [5.5, 6, 9, -1.5, -2, 0]);
  });
  it("has the right gradient", async () => {
    const w = randValues(1, [3, 4]);
    await gradcheck((x) => np.sum(np.square(linear({ weight: arr(w, [3, 4]) }, x))), randValues(2, [2, 3]), [2, 3]);
    const x = randValues(3, [2, 3]);
    await gradcheck((wt) => np.sum(np.sin(linear({ weight: wt }, arr(x, [2, 3])))), w, [3, 4]);
  });
});

describe("layer norm and RMS norm", () => {
  it("layer norm matches hand-computed values", async () => {
    // x = [1, 2, 3, 6]: mean 3, var (4+1+0+9)/4 = 3.5
    const s = Math.sqrt(3.5 + 1e-5);
    const y = layerNorm({ weight: arr([1, 2, 1, 1], [4]), bias: arr([0, 0, 1, 0], [4]) }, arr([1, 2, 3, 6], [1, 4]));
    assertClose(await values(y), [-2 / s, (2 * -1) / s, 0 / s + 1, 3 / s], 1e-5, 1e-5);
  });
  it("RMS norm matches hand-computed values", async () => {
    // x = [3, 4]: mean square 12.5
    const r = Math.sqrt(12.5 + 1e-5);
    const y = rmsNorm({ weight: arr([1, 0.5], [2]) }, arr([3, 4], [1, 2]));
    assertClose(await values(y), [3 / r, 2 / r]);
  });
  it("both have the right gradients", async () => {
    const w = randValues(4, [5], 0.5, 1.5);
    const c = randValues(5, [3, 5]);
    await gradcheck((x) => np.sum(layerNorm({ weight: arr(w, [5]) }, x).mul(arr(c, [3, 5]))), randValues(6, [3, 5]), [3, 5]);
    await gradcheck((x) => np.sum(rmsNorm({ weight: arr(w, [5]) }, x).mul(arr(c, [3, 5]))), randValues(7, [3, 5]), [3, 5]);
    await gradcheck((wt) => np.sum(np.square(layerNorm({ weight: wt }, arr(c, [3, 5])))), w, [5]);
  });
});

describe("MLP", () => {
  it("uses the exact erf GELU", async () => {
    const p = { fc1: { weight: arr([1, -1], [1, 2]) }, fc2: { weight: arr([1, 2], [2, 1]) } };
    const xs = [0.7, -1.3, 2.1];
    const y = await values(runMlp(p, arr(xs, [3, 1])));
    assertClose(y, xs.map((x) => gelu(x) + 2 * gelu(-x)), 1e-5, 1e-5);
  });
  it("has the right gradient", async () => {
    const w1 = randValues(8, [4, 6]);
    const w2 = randValues(9, [6, 4]);
    const mlp = () => ({ fc1: { weight: arr(w1, [4, 6]) }, fc2: { weight: arr(w2, [6, 4]) } });
    await gradcheck((x) => np.sum(np.square(runMlp(mlp(), x))), randValues(10, [2, 4]), [2, 4]);
  });
});

describe("QK-norm attention", () => {
  it("matches a hand computation with one head", async () => {
    // b=1, n=2, nh=1, dh=2. RMS norm of q/k with weight 1 maps [a, b] to [a, b]/rms.
    const q = [1, 0, 0, 2];
    const k = [3, 0, 0, 1];
    const v = [1, 2, 3, 4];
    const norm = (x: number[]) => {
      const r = Math.sqrt((x[0]! ** 2 + x[1]! ** 2) / 2 + 1e-5);
      return x.map((e) => e / r);
    };
    const qn = [norm(q.slice(0, 2)), norm(q.slice(2))];
    const kn = [norm(k.slice(0, 2)), norm(k.slice(2))];
    const expected: number[] = [];
    for (const qi of qn) {
      const logits = kn.map((kj) => (qi[0]! * kj[0]! + qi[1]! * kj[1]!) / Math.SQRT2);
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const z = e[0]! + e[1]!;
      expected.push((e[0]! * v[0]! + e[1]! * v[2]!) / z, (e[0]! * v[1]! + e[1]! * v[3]!) / z);
    }
    const one = () => ({ weight: arr([1, 1], [2]) });
    const o = qkNormAttention(one(), one(), arr(q, [1, 2, 1, 2]), arr(k, [1, 2, 1, 2]), arr(v, [1, 2, 1, 2]), 1e-5);
    assertClose(await values(o), expected, 1e-5, 1e-5);
  });
  it("has the right gradient with respect to q", async () => {
    const shape = [1, 3, 2, 4];
    const k = randValues(11, shape);
    const v = randValues(12, shape);
    const one = () => ({ weight: arr([1, 1.5, 0.5, 1], [4]) });
    await gradcheck(
      (q) => np.sum(np.square(qkNormAttention(one(), one(), q, arr(k, shape), arr(v, shape), 1e-5))),
      randValues(13, shape),
      shape,
    );
  });
});

describe("transformer block", () => {
  const cfg: BlockConfig = { d: 8, heads: 2, mlpRatio: 2, eps: 1e-5 };
  it("with zeroed output projections is the identity (both residual branches vanish)", async () => {
    const p = initBlock(random.key(0), cfg, 0.5);
    p.proj.weight.dispose();
    p.proj.weight = np.zeros([8, 8]);
    p.mlp.fc2.weight.dispose();
    p.mlp.fc2.weight = np.zeros([16, 8]);
    const x = randValues(14, [2, 3, 8]);
    assertClose(await values(runBlock(p, arr(x, [2, 3, 8]), cfg)), x, 1e-6, 0);
  });
  it("is permutation-equivariant over tokens (no positional terms inside)", async () => {
    const p = initBlock(random.key(1), cfg, 0.3);
    const x = randValues(15, [1, 3, 8]);
    const xs = Array.from({ length: 3 }, (_, i) => x.slice(i * 8, i * 8 + 8));
    const perm = Float32Array.from([...xs[2]!, ...xs[0]!, ...xs[1]!]);
    const pRef = { ...p }; // same arrays, referenced twice
    const y1 = await values(runBlock(structuredCloneParams(pRef), arr(x, [1, 3, 8]), cfg));
    const y2 = await values(runBlock(p, arr(perm, [1, 3, 8]), cfg));
    assertClose(y2, [...y1.slice(16, 24), ...y1.slice(0, 8), ...y1.slice(8, 16)], 1e-5, 1e-4);
  });
  it("has the right gradient", async () => {
    const key = random.key(2);
    const x0 = randValues(16, [1, 4, 8]);
    const params = initBlock(key, cfg, 0.3);
    await gradcheck((x) => np.sum(np.square(runBlock(structuredCloneParams(params), x, cfg))), x0, [1, 4, 8]);
  });
  it("rejects a width that does not split into heads", () => {
    assert.throws(() => headWidth({ d: 10, heads: 3, mlpRatio: 4, eps: 1e-5 }), /not divisible/);
  });
});

describe("patchify", () => {
  it("orders tokens row-major and patch entries (row, col, channel) with channel fastest", async () => {
    // 2 channels, 4×4 image, patch 2: value = 100·c + 10·y + x
    const v: number[] = [];
    for (let c = 0; c < 2; c++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) v.push(100 * c + 10 * y + x);
    const t = await values(patchify(arr(v, [1, 2, 4, 4]), 2));
    // token 1 = patch row 0, col 1 (x 2..3, y 0..1): (y0,x2,c0),(y0,x2,c1),(y0,x3,c0),(y0,x3,c1),(y1,x2,c0)...
    assert.deepEqual(t.slice(8, 16), [2, 102, 3, 103, 12, 112, 13, 113]);
    // token 2 = patch row 1, col 0
    assert.deepEqual(t.slice(16, 20), [20, 120, 21, 121]);
  });
  it("unpatchify inverts it", async () => {
    const v = randValues(17, [2, 3, 8, 4]);
    const back = await values(unpatchify(patchify(arr(v, [2, 3, 8, 4]), 4), 4, 2, 1));
    assertClose(back, v, 0, 0);
  });
  it("passes gradients through", async () => {
    const w = randValues(18, [1, 4, 12]);
    await gradcheck((x) => np.sum(patchify(x, 2).mul(arr(w, [1, 4, 12]))), randValues(19, [1, 3, 4, 4]), [1, 3, 4, 4]);
  });
});

describe("conv2d (channels last, HWIO weights)", () => {
  // 3×3 single-channel image 1..9, row-major; zero padding.
  const img = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  it("sums each zero-padded 3×3 neighbourhood with an all-ones kernel, plus the bias", async () => {
    const y = conv2d({ weight: np.ones([3, 3, 1, 1]), bias: arr([0.5], [1]) }, arr(img, [1, 3, 3, 1]));
    // corners: 1+2+4+5, 2+3+5+6, ...; centre 45
    assertClose(await values(y), [12, 21, 16, 27, 45, 33, 24, 39, 28].map((e) => e + 0.5));
  });
  it("correlates (no kernel flip): a kernel with one 1 at (row 0, col 2) reads the pixel up-right", async () => {
    const k = new Float32Array(9);
    k[2] = 1; // (dy 0, dx 2) → out[y][x] = in[y − 1][x + 1]
    const y = conv2d({ weight: arr(k, [3, 3, 1, 1]) }, arr(img, [1, 3, 3, 1]));
    assertClose(await values(y), [0, 0, 0, 2, 3, 0, 5, 6, 0]);
  });
  it("a 1×1 kernel mixes channels per pixel like a linear layer", async () => {
    // pixel channels [1, 2] and [3, −1]; weight [[1, 0, 2], [−1, 1, 0]] ([in, out]); bias [0, 1, 0]
    const y = conv2d({ weight: arr([1, 0, 2, -1, 1, 0], [1, 1, 2, 3]), bias: arr([0, 1, 0], [3]) }, arr([1, 2, 3, -1], [1, 1, 2, 2]));
    assertClose(await values(y), [-1, 3, 2, 4, 0, 6]);
  });
  it("matches lax.convGeneralDilated (NCHW / OIHW) on random multi-channel input", async () => {
    const [b, h, w, c, o] = [2, 5, 4, 3, 4];
    const x = randValues(30, [b, h, w, c]);
    const wt = randValues(31, [3, 3, c, o]);
    const ours = await values(conv2d({ weight: arr(wt, [3, 3, c, o]) }, arr(x, [b, h, w, c])));
    const ref = lax
      .convGeneralDilated(arr(x, [b, h, w, c]).transpose([0, 3, 1, 2]), arr(wt, [3, 3, c, o]).transpose([3, 2, 0, 1]), [1, 1], [[1, 1], [1, 1]])
      .transpose([0, 2, 3, 1]); // NCHW → NHWC
    assertClose(ours, await values(ref), 1e-5, 1e-5);
  });
  it("has the right gradients with respect to input and weight", async () => {
    const wt = randValues(32, [3, 3, 2, 3]);
    const x = randValues(33, [1, 4, 3, 2]);
    const c = randValues(34, [1, 4, 3, 3]);
    await gradcheck((xi) => np.sum(conv2d({ weight: arr(wt, [3, 3, 2, 3]) }, xi).mul(arr(c, [1, 4, 3, 3]))), x, [1, 4, 3, 2]);
    await gradcheck((wi) => np.sum(np.square(conv2d({ weight: wi, bias: arr([0.1, -0.2, 0.3], [3]) }, arr(x, [1, 4, 3, 2])))), wt, [3, 3, 2, 3]);
  });
  it("initialises like PyTorch: U(±1/√fan_in) for weight and bias", async () => {
    const p = initConv2d(random.key(3), 4, 8, 3);
    const bound = 1 / Math.sqrt(4 * 9);
    const w = await values(p.weight);
    const bias = await values(p.bias!);
    assert.deepEqual([Math.max(...w.map(Math.abs)) <= bound, Math.max(...w.map(Math.abs)) > 0.8 * bound], [true, true], "weight range");
    assert.ok(Math.max(...bias.map(Math.abs)) <= bound, "bias range");
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    assertClose([variance], [(bound * bound) / 3], 0, 0.2, "weight variance (uniform: bound²/3)");
  });
});

describe("groupNorm", () => {
  it("matches the direct formula per (image, group)", async () => {
    const [b, h, w, c, groups] = [2, 2, 3, 4, 2];
    const x = randValues(40, [b, h, w, c], -2, 3);
    const gamma = randValues(41, [c], 0.5, 1.5);
    const beta = randValues(42, [c]);
    const y = await values(groupNorm({ weight: arr(gamma, [c]), bias: arr(beta, [c]) }, arr(x, [b, h, w, c]), groups));
    const cg = c / groups;
    const expected = new Float32Array(x.length);
    for (let i = 0; i < b; i++) {
      for (let g = 0; g < groups; g++) {
        const idx: number[] = [];
        for (let pix = 0; pix < h * w; pix++) for (let j = 0; j < cg; j++) idx.push((i * h * w + pix) * c + g * cg + j);
        const mean = idx.reduce((s, k) => s + x[k]!, 0) / idx.length;
        const variance = idx.reduce((s, k) => s + (x[k]! - mean) ** 2, 0) / idx.length;
        for (const k of idx) expected[k] = ((x[k]! - mean) / Math.sqrt(variance + 1e-5)) * gamma[k % c]! + beta[k % c]!;
      }
    }
    assertClose(y, expected, 1e-5, 1e-5);
  });
  it("has the right gradient", async () => {
    const gamma = randValues(43, [6], 0.5, 1.5);
    const c = randValues(44, [1, 2, 2, 6]);
    await gradcheck((x) => np.sum(groupNorm({ weight: arr(gamma, [6]) }, x, 3).mul(arr(c, [1, 2, 2, 6]))), randValues(45, [1, 2, 2, 6]), [1, 2, 2, 6]);
  });
});

describe("upsample2x (bilinear, half-pixel centres)", () => {
  it("matches a hand computation on a 2×2 map", async () => {
    // rows [0, 4] and [8, 12] → along x: [0, 1, 3, 4], [8, 9, 11, 12]; along y: r, .75r0+.25r1, .25r0+.75r1, r1
    const y = await values(upsample2x(arr([0, 4, 8, 12], [1, 2, 2, 1])));
    assert.deepEqual(y, [0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12]);
  });
  it("agrees with the matmul bilinear resize to twice the size (several channels, odd sides)", async () => {
    const x = randValues(46, [2, 3, 5, 2]);
    const ours = await values(upsample2x(arr(x, [2, 3, 5, 2])));
    const ref = resizeBilinear(arr(x, [2, 3, 5, 2]).transpose([0, 3, 1, 2]), 6, 10).transpose([0, 2, 3, 1]); // via NCHW
    assertClose(ours, await values(ref), 1e-6, 1e-5);
  });
  it("has the right gradient", async () => {
    const c = randValues(47, [1, 4, 6, 2]);
    await gradcheck((x) => np.sum(np.square(upsample2x(x)).mul(arr(c, [1, 4, 6, 2]))), randValues(48, [1, 2, 3, 2]), [1, 2, 3, 2]);
  });
});

/** A deep copy of a params tree holding new references to the same buffers (for calling a consuming function twice). */
function structuredCloneParams<T>(p: T): T {
  if (p && typeof p === "object" && "ref" in (p as object) && "shape" in (p as object)) return (p as unknown as { ref: T }).ref;
  if (Array.isArray(p)) return p.map(structuredCloneParams) as T;
  return Object.fromEntries(Object.entries(p as object).map(([k, v]) => [k, structuredCloneParams(v)])) as T;
}
