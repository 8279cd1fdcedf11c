import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { grad, type Array as JArray } from "@jax-js/jax";
import { arr, assertClose, engine, gradcheck, randValues, values } from "../helpers/engine.ts";
import { bceWithLogits, psnrKeep } from "../../src/train/losses.ts";

before(engine);

/** −[y·log σ(x) + (1 − y)·log(1 − σ(x))] in float64, the textbook form (fine for moderate |x|). */
const bce = (x: number, y: number) => {
  const s = 1 / (1 + Math.exp(-x));
  return -(y * Math.log(s) + (1 - y) * Math.log(1 - s));
};
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("bceWithLogits", () => {
  it("matches the textbook formula for moderate logits and stays finite for huge ones", async () => {
    const x = [-3, -0.5, 0, 0.5, 3, 7];
    const y = [0, 1, 0.3, 1, 0, 1];
    const got = await values(bceWithLogits(arr(x, [1, 2, 1, 3]), arr(y, [1, 2, 1, 3])));
    assertClose(got, [x.reduce((s, xi, i) => s + bce(xi, y[i]!), 0) / 6], 1e-6, 1e-6);
    // |x| = 100: exp(100) overflows float32, the naive form gives Inf or NaN. By hand: a wrong sign costs |x|
    // (x = 100, y = 0 → 100; x = −100, y = 1 → 100), a right one log1p(e^−100) ≈ 0; y = 0.5 costs 50 + log 2… ≈ 50.
    const big = await values(bceWithLogits(arr([100, -100, 100, -100, 100, 0], [1, 1, 2, 3]), arr([0, 1, 1, 0, 0.5, 0], [1, 1, 2, 3])));
    assertClose(big, [(100 + 100 + 0 + 0 + 50 + Math.LN2) / 6], 1e-4, 1e-6);
  });
  it("with keep weights averages over the pixels of the kept views only, and is 0 when none is kept", async () => {
    // b = 1, v = 3, 2 pixels per view; views 0 and 2 kept
    const x = [1, -2, 0.5, 3, -1, 2];
    const y = [1, 0, 0, 0, 1, 1];
    const got = await values(bceWithLogits(arr(x, [1, 3, 1, 2]), arr(y, [1, 3, 1, 2]), arr([1, 0, 1], [1, 3])));
    assertClose(got, [(bce(1, 1) + bce(-2, 0) + bce(-1, 1) + bce(2, 1)) / 4], 1e-6, 1e-6);
    const none = await values(bceWithLogits(arr(x, [1, 3, 1, 2]), arr(y, [1, 3, 1, 2]), arr([0, 0, 0], [1, 3])));
    assert.deepEqual(none, [0]);
    // nothing kept: a zero gradient, not NaN
    const g = await values(grad((l: JArray) => bceWithLogits(l, arr(y, [1, 3, 1, 2]), arr([0, 0, 0], [1, 3])))(arr(x, [1, 3, 1, 2])));
    assert.deepEqual(g, [0, 0, 0, 0, 0, 0]);
  });
  it("has the gradient (σ(x) − y)·keep / N, also at x = 0 exactly, and matches finite differences", async () => {
    const x = [0, -1.5, 2, 0.25, -0.75, 1];
    const y = [0.2, 0, 1, 1, 0.5, 0];
    const keep = [1, 0, 1];
    const g = await values(grad((l: JArray) => bceWithLogits(l, arr(y, [1, 3, 2, 1]), arr(keep, [1, 3])))(arr(x, [1, 3, 2, 1])));
    assertClose(g, x.map((xi, i) => ((sigmoid(xi) - y[i]!) * keep[Math.floor(i / 2)]!) / 4), 1e-6, 1e-5);
    const t = randValues(3, [2, 2, 3, 3], 0, 1);
    await gradcheck((l) => bceWithLogits(l, arr(t, [2, 2, 3, 3]), arr([1, 0, 1, 1], [2, 2])), randValues(4, [2, 2, 3, 3], -3, 3), [2, 2, 3, 3], {
      eps: 1e-2,
      rtol: 1e-2,
    });
  });
});

describe("bceWithLogits with a positive weight", () => {
  it("is −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))] by hand, stays finite at |x| = 100, and its gradient is (σ(x)(1 + (p−1)y) − p·y) / N", async () => {
    const p = 3;
    const wbce = (x: number, y: number) => {
      const s = 1 / (1 + Math.exp(-x));
      return -(p * y * Math.log(s) + (1 - y) * Math.log(1 - s));
    };
    const x = [-3, -0.5, 0, 0.5, 3, 7];
    const y = [0, 1, 0.3, 1, 0, 1];
    const got = await values(bceWithLogits(arr(x, [1, 2, 1, 3]), arr(y, [1, 2, 1, 3]), null, p));
    assertClose(got, [x.reduce((s, xi, i) => s + wbce(xi, y[i]!), 0) / 6], 1e-6, 1e-6);
    // a wrong sign costs |x|, weighted p for a missed positive: (x=−100, y=1) → 300, (x=100, y=0) → 100
    const big = await values(bceWithLogits(arr([-100, 100], [1, 1, 1, 2]), arr([1, 0], [1, 1, 1, 2]), null, p));
    assertClose(big, [(300 + 100) / 2], 1e-4, 1e-6);
    const g = await values(grad((l: JArray) => bceWithLogits(l, arr(y, [1, 2, 1, 3]), null, p))(arr(x, [1, 2, 1, 3])));
    assertClose(g, x.map((xi, i) => (sigmoid(xi) * (1 + (p - 1) * y[i]!) - p * y[i]!) / 6), 1e-6, 1e-5);
  });
});

describe("psnrKeep", () => {
  it("keeps views at or above the threshold (17 dB by default)", async () => {
    assert.deepEqual(await values(psnrKeep(arr([16.9, 17, 25, 3], [2, 2]))), [0, 1, 1, 0]);
    assert.deepEqual(await values(psnrKeep(arr([16.9, 17, 25, 3], [2, 2]), 20)), [0, 0, 1, 0]);
  });
});
