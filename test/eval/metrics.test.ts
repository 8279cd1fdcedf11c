import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { meanFinite, mseHost, psnrHost } from "../../src/eval/metrics.ts";

describe("image metrics", () => {
  it("MSE and PSNR on a hand-computed case", () => {
    // 1 channel... use 3 channels × 2 pixels: errors 0.1 on every value → MSE 0.01 → 20 dB
    const a = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const b = [0.6, 0.4, 0.6, 0.4, 0.6, 0.4];
    assert.ok(Math.abs(mseHost(a, b) - 0.01) < 1e-12, "mse 0.01");
    assert.ok(Math.abs(psnrHost(a, b) - 20) < 1e-9, "psnr 20 dB");
    assert.equal(psnrHost(a, a), Infinity);
  });
  it("static-pixel variants count only kept pixels, in every channel", () => {
    // pixel 0 is exact, pixel 1 is off by 0.5 in every channel; keeping pixel 0 only gives MSE 0
    const a = [0, 0, 0, 0, 0, 0];
    const b = [0, 0.5, 0, 0.5, 0, 0.5];
    assert.equal(mseHost(a, b, [1, 0]), 0);
    assert.ok(Math.abs(mseHost(a, b, [0, 1]) - 0.25) < 1e-12, "mse 0.25 on pixel 1");
    assert.ok(Math.abs(mseHost(a, b) - 0.125) < 1e-12, "mse over all");
    assert.ok(Number.isNaN(mseHost(a, b, [0, 0])), "no kept pixel gives NaN");
  });
  it("meanFinite skips NaN and infinities", () => {
    assert.equal(meanFinite([1, NaN, 3, Infinity]), 2);
  });
});
