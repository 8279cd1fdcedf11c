import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { grad, type Array as JArray } from "@jax-js/jax";
import { arr, assertClose, engine, randValues, values } from "../helpers/engine.ts";
import { gatedPhotometricLoss } from "../../src/train/losses.ts";
import { perceptualDistance } from "../../src/features/perceptual.ts";
import { loadMobilenetV2, type FeatureExtractor } from "../../src/features/mobilenetV2.ts";

before(engine);

describe("gatedPhotometricLoss", () => {
  // b = 1, t = 2 targets, c = 1 channel (the loss is channel-generic), 2×2 pixels
  const pred = [0.1, 0.5, 0.9, 0.3, /* view 1 */ 0.2, 0.2, 0.7, 1.0];
  const target = [0.0, 0.5, 0.4, 0.6, /* view 1 */ 0.8, 0.2, 0.7, 0.0];
  const shape = [1, 2, 1, 2, 2];
  it("is the mean squared error over the static pixels only (hand computation)", async () => {
    const gate = [1, 1, 0, 1, /* view 1 */ 0, 1, 1, 0];
    const got = await values(gatedPhotometricLoss(arr(pred, shape), arr(target, shape), arr(gate, [1, 2, 2, 2]), 0, null));
    // static squared errors: 0.01, 0, 0.09, 0, 0 → 0.10 / 5
    assertClose(got, [0.1 / 5], 1e-7, 1e-6);
    // all static: the plain mean
    const all = await values(gatedPhotometricLoss(arr(pred, shape), arr(target, shape), arr(new Array(8).fill(1), [1, 2, 2, 2]), 0, null));
    const plain = pred.reduce((s, p, i) => s + (p - target[i]!) ** 2, 0) / 8;
    assertClose(all, [plain], 1e-7, 1e-6);
  });
  it("falls back to every pixel when fewer than 10 % are static", async () => {
    // 20 pixels, one static (5 %): the plain mean; two static (10 %): gated
    const p = randValues(4, [1, 1, 1, 4, 5], 0, 1);
    const q = randValues(5, [1, 1, 1, 4, 5], 0, 1);
    const one = new Float32Array(20);
    one[3] = 1;
    const plain = Array.from(p).reduce((s, x, i) => s + (x - q[i]!) ** 2, 0) / 20;
    assertClose(await values(gatedPhotometricLoss(arr(p, [1, 1, 1, 4, 5]), arr(q, [1, 1, 1, 4, 5]), arr(one, [1, 1, 4, 5]), 0, null)), [plain], 1e-7, 1e-5);
    const two = Float32Array.from(one);
    two[7] = 1;
    const gated = ((p[3]! - q[3]!) ** 2 + (p[7]! - q[7]!) ** 2) / 2;
    assertClose(await values(gatedPhotometricLoss(arr(p, [1, 1, 1, 4, 5]), arr(q, [1, 1, 1, 4, 5]), arr(two, [1, 1, 4, 5]), 0, null)), [gated], 1e-7, 1e-5);
  });
  it("gives gated pixels a zero gradient and static ones 2(pred − target)/(c·Σ gate)", async () => {
    const gate = [1, 1, 0, 1, 0, 1, 1, 0];
    const g = await values(grad((x: JArray) => gatedPhotometricLoss(x, arr(target, shape), arr(gate, [1, 2, 2, 2]), 0, null))(arr(pred, shape)));
    const want = pred.map((p, i) => (gate[i] ? (2 * (p - target[i]!)) / 5 : 0));
    assertClose(g, want, 1e-6, 1e-5);
    for (const [i, x] of gate.entries()) if (!x) assert.ok(g[i] === 0, `pixel ${i} is gated: gradient ${g[i]}`);
  });
  it("adds λ × the mean gate-weighted perceptual distance of the targets", async (t) => {
    let fx: FeatureExtractor;
    try {
      fx = await loadMobilenetV2();
    } catch (e) {
      t.skip(`MobileNetV2 weights unavailable: ${(e as Error).message}`);
      return;
    }
    const s = [1, 2, 3, 32, 32];
    const p = randValues(6, s, 0, 1);
    const q = randValues(7, s, 0, 1);
    const gate = new Float32Array(2 * 32 * 32).fill(1);
    for (let i = 0; i < 32 * 16; i++) gate[i] = 0; // the top half of target 0 is dynamic
    const lambda = 0.2;
    const got = await values(gatedPhotometricLoss(arr(p, s), arr(q, s), arr(gate, [1, 2, 32, 32]), lambda, fx));
    const mseOnly = await values(gatedPhotometricLoss(arr(p, s), arr(q, s), arr(gate, [1, 2, 32, 32]), 0, null));
    const perc = await values(perceptualDistance(fx, arr(p, [2, 3, 32, 32]), arr(q, [2, 3, 32, 32]), arr(gate, [2, 1, 32, 32])));
    assertClose(got, [mseOnly[0]! + lambda * (perc[0]! + perc[1]!) / 2], 1e-5, 1e-4);
    // the gate changes the perceptual term: all-static differs
    const ones = new Float32Array(2 * 32 * 32).fill(1);
    const percAll = await values(perceptualDistance(fx, arr(p, [2, 3, 32, 32]), arr(q, [2, 3, 32, 32]), arr(ones, [2, 1, 32, 32])));
    assert.ok(Math.abs(percAll[0]! - perc[0]!) > 1e-4, "the gate weights target 0's perceptual term");
    fx.dispose();
  });
});
