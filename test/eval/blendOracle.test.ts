import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { blendCeilings, mixImages } from "../../src/eval/blendOracle.ts";

describe("blend ceilings", () => {
  it("the best mix is clipped to [0, 1] and is the nearer input when the target lies beyond it", () => {
    const c = blendCeilings([0, 0], [1, 1], [1.2, 1.2], 0.9);
    assert.ok(Math.abs(c.bestGlobalAlpha - c.nearestInput) < 1e-9, "α clipped to 1 = input B");
  });
  it("mixImages is (1 − α)·a + α·b", () => {
    assert.deepEqual(Array.from(mixImages([0, 1], [1, 0], 0.25)), [0.25, 0.75]);
  });
  it("hand-computed references for a target that is 0.3·A + 0.7·B plus a pixel only A explains", () => {
    const a = [0, 0, 0, 1];
    const b = [1, 1, 1, 0];
    // first three values: 0.7 (the 0.3/0.7 mix); last: 1 (A's value)
    const target = [0.7, 0.7, 0.7, 1];
    const c = blendCeilings(a, b, target, 0.4);
    const psnr = (mse: number) => 10 * Math.log10(1 / mse);
    // nearest (τ 0.4 → A): errors 0.7,0.7,0.7,0 → MSE 1.47/4
    assert.ok(Math.abs(c.nearestInput - psnr(1.47 / 4)) < 1e-4, "nearest");
    // mean: 0.5 everywhere → errors 0.2,0.2,0.2,0.5 → MSE 0.37/4
    assert.ok(Math.abs(c.meanOfInputs - psnr(0.37 / 4)) < 1e-4, "mean");
    // cross-fade at τ 0.4: 0.4,0.4,0.4,0.6 → errors 0.3,0.3,0.3,0.4 → MSE 0.43/4
    assert.ok(Math.abs(c.crossFade - psnr(0.43 / 4)) < 1e-4, "cross-fade");
    // best α: MSE(α) = (3(α − 0.7)² + α²) / 4 is least at α = 0.525 (6(α − 0.7) + 2α = 0)
    const best = psnr((3 * 0.175 ** 2 + 0.525 ** 2) / 4);
    assert.ok(Math.abs(c.bestGlobalAlpha - best) < 1e-4, "best global α");
    // per pixel: B gives |0.3| on the first three, A exact on the last → MSE 0.27/4
    assert.ok(Math.abs(c.bestPerPixel - psnr(0.27 / 4)) < 1e-4, "best per pixel");
    // no α on either side does better
    for (const alpha of [0.5, 0.55, 0.52, 0.53]) assert.ok(psnr((3 * (alpha - 0.7) ** 2 + alpha ** 2) / 4) <= c.bestGlobalAlpha + 1e-6, `α ${alpha}`);
    assert.ok(c.bestPerPixel > c.bestGlobalAlpha && c.bestGlobalAlpha >= c.crossFade, "ordering");
  });
});
