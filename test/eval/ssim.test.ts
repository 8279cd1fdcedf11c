import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ssim as ssimJs } from "ssim.js";
import { gaussianTaps } from "../../src/engine/blur.ts";
import { ssimHost, ssimMap } from "../../src/eval/ssim.ts";
import { makeRng } from "../../src/engine/rng.ts";

/** A grey 8-bit test image: a smooth pattern plus seeded noise, as values 0..255. */
function greyImage(seed: number, h: number, w: number, noise: number): Uint8Array {
  const rng = makeRng(seed);
  return Uint8Array.from({ length: h * w }, (_, i) => {
    const x = i % w;
    const y = Math.floor(i / w);
    const v = 128 + 60 * Math.sin(x / 5 + seed) * Math.cos(y / 7) + noise * (rng.next() - 0.5);
    return Math.max(0, Math.min(255, Math.round(v)));
  });
}

const rgba = (g: Uint8Array, h: number, w: number) => ({
  data: Uint8ClampedArray.from({ length: 4 * h * w }, (_, i) => (i % 4 === 3 ? 255 : g[Math.floor(i / 4)]!)),
  width: w,
  height: h,
});

describe("SSIM", () => {
  it("matches ssim.js's 'original' mode (Wang's MATLAB reference) on grey images", () => {
    for (const [h, w, noise] of [[48, 64, 40], [40, 40, 120], [64, 33, 10]] as const) {
      const a = greyImage(1, h, w, noise);
      const b = greyImage(2, h, w, noise);
      const theirs = ssimJs(rgba(a, h, w), rgba(b, h, w), { ssim: "original" }).mssim;
      const ours = ssimHost(Float32Array.from(a, (v) => v / 255), Float32Array.from(b, (v) => v / 255), 1, h, w);
      assert.ok(Math.abs(ours - theirs) < 1e-6, `${w}×${h}: ours ${ours}, ssim.js ${theirs}`);
    }
  });

  it("is 1 for identical images and matches the hand-computed value for two constant images", () => {
    const a = Float32Array.from({ length: 3 * 20 * 20 }, (_, i) => (i % 7) / 7);
    assert.ok(Math.abs(ssimHost(a, a, 3, 20, 20) - 1) < 1e-12, "identical → 1");
    // constant 0.5 vs 0.25: variances are 0, so SSIM = (2·0.5·0.25 + C1) / (0.5² + 0.25² + C1)
    const c1 = 1e-4;
    const want = (0.25 + c1) / (0.3125 + c1);
    const got = ssimHost(new Float32Array(400).fill(0.5), new Float32Array(400).fill(0.25), 1, 20, 20);
    assert.ok(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
    const taps = gaussianTaps(11, 1.5);
    assert.ok(Math.abs(taps.reduce((s, t) => s + t, 0) - 1) < 1e-15 && taps[5]! > taps[4]!, "normalised, peaked taps");
  });

  it("reflect-padded maps keep the size; masked SSIM scores only the kept pixels", () => {
    const h = 24;
    const w = 24;
    const a = Float32Array.from(greyImage(3, h, w, 30), (v) => v / 255);
    const b = Float32Array.from(a);
    for (let y = 0; y < h; y++) for (let x = 12; x < w; x++) b[y * w + x] = 1 - b[y * w + x]!; // corrupt the right half
    const { map, h: mh, w: mw } = ssimMap(a, b, 1, h, w, "reflect");
    assert.deepEqual([mh, mw, map.length], [h, w, h * w]);
    const left = Float32Array.from({ length: h * w }, (_, i) => (i % w < 4 ? 1 : 0)); // far from the corruption
    const right = Float32Array.from({ length: h * w }, (_, i) => (i % w >= 16 ? 1 : 0));
    assert.ok(ssimHost(a, b, 1, h, w, left) > 0.999, "untouched pixels score ~1");
    assert.ok(ssimHost(a, b, 1, h, w, right) < 0, `inverted pixels score below 0: ${ssimHost(a, b, 1, h, w, right)}`);
    assert.ok(Number.isNaN(ssimHost(a, b, 1, h, w, new Float32Array(h * w))), "an empty mask has no score");
  });
});
