import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { panClip } from "../helpers/panClip.ts";
import { coveredMedian, warpNeighbours, warpRenderer } from "../../src/pipeline/warpRenderer.ts";
import { warpToTarget } from "../../src/pipeline/homography.ts";
import { differencingMasks } from "../../src/pipeline/differencing.ts";
import { maskIou } from "../../src/masks/pipeline.ts";

/** PSNR (dB) of `a` against `b` over the pixels at least `margin` from the border. */
function psnrInner(a: Float32Array, b: Float32Array, h: number, w: number, margin: number): number {
  const n = h * w;
  let se = 0;
  let count = 0;
  for (let y = margin; y < h - margin; y++) {
    for (let x = margin; x < w - margin; x++) {
      for (let c = 0; c < 3; c++) se += (a[c * n + y * w + x]! - b[c * n + y * w + x]!) ** 2;
      count += 3;
    }
  }
  return 10 * Math.log10(count / se);
}

describe("warp renderer", () => {
  it("neighbours: ±s, ±2s, … nearest first, from the other side at a clip end", () => {
    assert.deepEqual(warpNeighbours(10, 30, 4, 3), [13, 7, 16, 4]);
    assert.deepEqual(warpNeighbours(0, 30, 3, 2), [2, 4, 6]);
    assert.deepEqual(warpNeighbours(2, 4, 3, 2), [0, 1, 3], "a short clip fills with the nearest remaining frames");
  });

  it("median of the covering layers; uncovered pixels keep the fallback", () => {
    const h = 1;
    const w = 3;
    const layer = (v: number[], covered: number[]) => ({ image: Float32Array.from([...v, ...v, ...v]), covered: Uint8Array.from(covered) });
    const fallback = Float32Array.from([9, 9, 9, 9, 9, 9, 9, 9, 9]);
    const r = coveredMedian([layer([1, 5, 2], [1, 1, 0]), layer([3, 1, 7], [1, 1, 0]), layer([2, 8, 4], [1, 0, 0])], fallback, h, w);
    assert.deepEqual(Array.from(r.image.subarray(0, 3)), [2, 3, 9], "pixel 0: median of 1, 3, 2; pixel 1: mean of the middle pair 5, 1; pixel 2: none cover");
    assert.deepEqual(Array.from(r.support), [3, 2, 0]);
  });

  it("warpToTarget with a known translation samples the shifted pixel and marks what falls outside", () => {
    const h = 4;
    const w = 5;
    const src = new Float32Array(3 * h * w).map((_, i) => i % (h * w));
    const { image, covered } = warpToTarget(src, Float64Array.from([1, 0, 2, 0, 1, 1, 0, 0, 1]), h, w); // target (x, y) → source (x + 2, y + 1)
    assert.equal(image[0], 1 * w + 2, "target (0, 0) shows source (2, 1)");
    assert.equal(covered[2], 1, "x = 2 → source x = 4, inside");
    assert.equal(covered[3], 0, "x = 3 → source x = 5, outside");
    assert.equal(covered[3 * w], 0, "y = 3 → source y = 4, outside");
  });

  it("on a pan with a mover: the mover is voted out and the static part matches the clean frame (≥ 35 dB)", async () => {
    const clip = panClip();
    const t = 3;
    const [render] = await warpRenderer({ neighbours: 4, spacing: 1 }).render(clip, [t]);
    const n = clip.h * clip.w;
    // the clean frame, 4 px in from the border (bilinear clamping at the edge pixels)
    const psnr = psnrInner(render!, clip.clean[t]!, clip.h, clip.w, 4);
    assert.ok(psnr >= 35, `PSNR against the clean frame ${psnr.toFixed(1)} dB`);
    assert.ok(psnrInner(clip.frames[t]!, clip.clean[t]!, clip.h, clip.w, 4) < 25, "the observed frame is far from the clean one (the mover)");
    let worst = 0;
    for (let i = 0; i < n; i++) if (clip.masks[t]![i]) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(render![c * n + i]! - clip.clean[t]![c * n + i]!));
    assert.ok(worst < 0.1, `the mover's pixels show the background (worst error ${worst.toFixed(3)}; the mover differs by > 0.3)`);
  });
});

describe("differencing baseline", () => {
  it("finds the mover of a hand-made pan (IoU ≥ 0.9) and nothing in a clip without one", async () => {
    const clip = panClip({ frames: 5 });
    const masks = await differencingMasks(clip, [1, 2, 3], { spacing: 1 });
    for (const [j, m] of masks.entries()) assert.ok(maskIou(m, clip.masks[j + 1]!) >= 0.9, `frame ${j + 1}: IoU ${maskIou(m, clip.masks[j + 1]!).toFixed(3)}`);
    const still = { ...clip, frames: clip.clean };
    const empty = await differencingMasks(still, [2], { spacing: 1 });
    const ones = empty[0]!.reduce((a, v) => a + v, 0);
    assert.equal(ones, 0, `no mover, no mask (${ones} pixels)`);
  });
});
