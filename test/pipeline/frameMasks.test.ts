import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { frameWindows, resizeImage, scaleRefine, workingSize } from "../../src/pipeline/frameMasks.ts";
import { OFFICIAL_REFINE } from "../../src/masks/refine.ts";

describe("full-frame pseudo-mask plumbing", () => {
  it("working size: short side as asked (never enlarged), sides multiples of 16, aspect kept", () => {
    assert.deepEqual(workingSize(240, 432, 64), { h: 64, w: 112 }, "432×240 → 115.2 × 64 → 112");
    assert.deepEqual(workingSize(48, 48, 64), { h: 48, w: 48 }, "never above the frame's own size");
    assert.deepEqual(workingSize(1080, 1920, 81), { h: 80, w: 144 }, "81 → 5.06 × 16 → 80; 144 = 9 × 16");
  });

  it("windows: consecutive, near-equal, every frame once", () => {
    assert.deepEqual(frameWindows(10, 4), [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]);
    assert.deepEqual(frameWindows(3, 8), [[0, 1, 2]]);
  });

  it("refinement kernels scale with the patch size, staying odd", () => {
    const r = scaleRefine(OFFICIAL_REFINE, 432 / 256);
    assert.equal(r.morphKernel, 5, "3 × 1.69 = 5.1 → 5");
    assert.equal(r.grabcutKernel, 11, "7 × 1.69 = 11.8: the nearest odd size by 2·round((11.8 − 1) / 2) + 1 = 11");
    assert.equal(scaleRefine(OFFICIAL_REFINE, 1).grabcutKernel, 7, "unchanged at the working size");
  });

  it("area resize averages whole blocks", async () => {
    const h = 4;
    const w = 4;
    const img = new Float32Array(3 * h * w).map((_, i) => (i % (h * w)) % 2); // columns alternate 0, 1
    const out = await resizeImage(img, h, w, 2, 2);
    for (const v of out) assert.ok(Math.abs(v - 0.5) < 1e-6, `block mean ${v}`);
  });
});
