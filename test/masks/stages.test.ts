import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fuseDissimilarity, fusionWeights, standardise, zscoreFrames } from "../../src/masks/fuse.ts";
import { kmeans } from "../../src/masks/kmeans.ts";
import { combineVote, quantile, voteClusters } from "../../src/masks/vote.ts";
import { gaussianBlur } from "../../src/engine/blur.ts";
import { squaredErrorMap } from "../../src/masks/dissimilarity.ts";
import { makeRng } from "../../src/engine/rng.ts";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

describe("pseudo-mask z-scores and fusion", () => {
  it("z-scores each frame with Bessel's correction (hand-computed)", () => {
    const z = zscoreFrames(new Float32Array([1, 2, 3, 4, 10, 10, 10, 14]), 2);
    const s1 = Math.sqrt(5 / 3); // std of 1..4 with n − 1
    close(z.subarray(0, 4), [-1.5 / s1, -0.5 / s1, 0.5 / s1, 1.5 / s1], 1e-6, "frame 0");
    const s2 = Math.sqrt((3 * 1 + 9) / 3); // values 10,10,10,14: mean 11, squared deviations 1,1,1,9
    close(z.subarray(4), [-1 / s2, -1 / s2, -1 / s2, 3 / s2], 1e-6, "frame 1");
  });

  it("fuses w_feat·Z(feat) + w_ssim·Z(ssim), weights summing to 1", () => {
    const feat = new Float32Array([0, 1, 2, 3]);
    const ssim = new Float32Array([3, 2, 1, 0]);
    close(fuseDissimilarity(feat, ssim, 1, { feat: 1, ssim: 0 }), zscoreFrames(feat, 1), 1e-7, "features only");
    close(fuseDissimilarity(feat, ssim, 1, { feat: 0.5, ssim: 0.5 }), [0, 0, 0, 0], 1e-7, "opposite maps cancel");
    assert.throws(() => fuseDissimilarity(feat, ssim, 1, { feat: 0.6, ssim: 0.6 }), /sum to 1/);
  });

  it("sample-wide z-scores let a frame where nothing stands out stay below the threshold (per-frame ones cannot)", () => {
    // frame 0: one patch far above the rest; frame 1: the same shape, ten times fainter (nothing is moving there)
    const maps = new Float32Array([0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1]);
    const perFrame = standardise(maps, 2, "frame");
    assert.ok(Math.abs(perFrame[7]! - perFrame[15]!) < 1e-6 && perFrame[15]! > 2, "per frame, the faint patch scores as high as the real one");
    const sample = standardise(maps, 2, "sample");
    const mean = 11 / 16;
    const std = Math.sqrt((14 * mean ** 2 + (10 - mean) ** 2 + (1 - mean) ** 2) / 15);
    close([sample[7]!, sample[15]!, sample[0]!], [(10 - mean) / std, (1 - mean) / std, -mean / std], 1e-6, "hand-computed");
    assert.ok(sample[7]! > 2 && sample[15]! < 0.5, "over the sample only the real one passes z ≥ 2");
  });

  it("fuses a third map, the colour residual, when it has a weight; the weights still sum to 1", () => {
    const feat = new Float32Array([0, 1, 2, 3]);
    const ssim = new Float32Array([3, 2, 1, 0]);
    const mse = new Float32Array([0, 0, 0, 4]);
    const zm = zscoreFrames(mse, 1);
    close(fuseDissimilarity(feat, ssim, 1, { feat: 0.25, ssim: 0.25, mse: 0.5 }, "frame", mse), Array.from(zm, (v) => 0.5 * v), 1e-6, "features and SSIM cancel");
    assert.throws(() => fuseDissimilarity(feat, ssim, 1, { feat: 0.5, ssim: 0.5, mse: 0.5 }, "frame", mse), /sum to 1/);
    assert.throws(() => fuseDissimilarity(feat, ssim, 1, { feat: 0.25, ssim: 0.25, mse: 0.5 }), /needs the mse map/);
  });

  it("moves weight from features to SSIM as the renderer's PSNR rises", () => {
    const ws = [12, 18, 20, 23, 26, 28, 35].map((p) => fusionWeights(p));
    assert.deepEqual([ws[0], ws[1]], [{ feat: 1, ssim: 0 }, { feat: 1, ssim: 0 }]);
    close([ws.at(-1)!.feat, ws.at(-1)!.ssim], [0.3, 0.7], 1e-12, "good renders");
    for (let i = 1; i < ws.length; i++) assert.ok(ws[i]!.ssim >= ws[i - 1]!.ssim && Math.abs(ws[i]!.feat + ws[i]!.ssim - 1) < 1e-12, `step ${i}`);
  });
});

describe("k-means and cross-frame voting", () => {
  it("k-means++ separates three blobs and is deterministic for a seed", () => {
    const rng = makeRng(5);
    const centres = [[0, 0], [5, 5], [-5, 4]];
    const pts = new Float32Array(90 * 2);
    for (let i = 0; i < 90; i++) {
      const c = centres[i % 3]!;
      pts[2 * i] = c[0]! + 0.3 * (rng.next() - 0.5);
      pts[2 * i + 1] = c[1]! + 0.3 * (rng.next() - 0.5);
    }
    const a = kmeans(pts, 90, 2, 3, { seed: 42 });
    for (let i = 3; i < 90; i++) assert.equal(a.labels[i], a.labels[i % 3], `point ${i} joins its blob`);
    assert.equal(new Set(a.labels).size, 3, "three clusters");
    assert.deepEqual(Array.from(kmeans(pts, 90, 2, 3, { seed: 42 }).labels), Array.from(a.labels), "same seed, same labels");
    assert.ok(a.iterations <= 20, "at most 20 Lloyd iterations");
  });

  it("keeps a cluster salient in every frame and drops a one-frame blip", () => {
    const frames = 6;
    const n = 16;
    const k = 10; // cluster 0: the mover (patches 0–1), cluster 1: a blip (patch 5), clusters 2–9: background
    const labels = new Int32Array(frames * n);
    const fused = new Float32Array(frames * n);
    for (let f = 0; f < frames; f++) {
      for (let p = 0; p < n; p++) {
        const i = f * n + p;
        labels[i] = p < 2 ? 0 : p === 5 ? 1 : 2 + (p % 8);
        fused[i] = p < 2 ? 3 : p === 5 ? (f === 2 ? 30 : -0.2) : -0.2 + 0.01 * p; // the blip is background except in frame 2
      }
    }
    const { mask, dynamic } = voteClusters(fused, labels, frames, k, { topQuantile: 0.8, frameQuantile: 0.75, minFrames: 4 });
    assert.equal(dynamic[0], true, "the consistently salient cluster is dynamic");
    assert.equal(dynamic[1], false, "the one-frame blip is dropped (its mean is high, but only in 1 frame)");
    assert.ok(quantile(Array.from({ length: k }, (_, c) => c), 0.8) < 9, "sanity: quantile interpolates");
    assert.equal(mask.reduce((a, b) => a + b, 0), frames * 2, "exactly the mover's patches in every frame");
  });
});

describe("vote rules for small grids", () => {
  it("an absolute cluster rule keeps every cluster whose mean evidence reaches it, however many there are", () => {
    const labels = Int32Array.from([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]); // 2 frames of 6 patches
    const fused = Float32Array.from([2, 2, 1.5, 1.5, 0, 0, 2, 2, 1.5, 1.5, 0, 0]);
    const rank = voteClusters(fused, labels, 2, 3, { topQuantile: 0.9, frameQuantile: 0.5, minFrames: 1 });
    assert.deepEqual(rank.dynamic, [true, false, false], "the rank rule keeps only the top cluster");
    const abs = voteClusters(fused, labels, 2, 3, { topQuantile: 0.9, frameQuantile: 0.5, minFrames: 1, minMean: 1 });
    assert.deepEqual(abs.dynamic, [true, true, false], "mean ≥ 1: both salient clusters");
  });

  it("combines voted clusters with the patch evidence: cluster, gate and rescue (hand-made)", () => {
    const voted = Uint8Array.from([1, 1, 1, 0, 0, 0]);
    const ev = Float32Array.from([3, 1, 0.2, 3, 1, 0.2]);
    const opts = { topQuantile: 0.95, frameQuantile: 0.75, minFrames: 1, rescueZ: 0.5 };
    assert.deepEqual(Array.from(combineVote(voted, ev, 2, { ...opts, combine: "cluster" })), [1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(combineVote(voted, ev, 2, { ...opts, combine: "gate" })), [1, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(combineVote(voted, ev, 2, { ...opts, combine: "rescue" })), [1, 1, 0, 1, 0, 0], "strong patches count alone, voted ones down to 0.5");
  });
});

describe("pseudo-mask dissimilarity maps", () => {
  it("Gaussian blur keeps constants, spreads an impulse as the normalised taps, and σ = 0 copies", () => {
    const h = 9;
    const w = 9;
    const flat = new Float32Array(2 * h * w).fill(0.3);
    close(gaussianBlur(flat, 2, h, w, 1), flat, 1e-6, "constant");
    const imp = new Float32Array(h * w);
    imp[4 * w + 4] = 1;
    const b = gaussianBlur(imp, 1, h, w, 1);
    const t = [0, 1, 2, 3].map((d) => Math.exp(-(d * d) / 2));
    const z = t[0]! + 2 * (t[1]! + t[2]! + t[3]!);
    close([b[4 * w + 4]!, b[4 * w + 5]!, b[5 * w + 5]!, b[4 * w + 6]!], [1 / z ** 2, t[1]! / z ** 2, t[1]! ** 2 / z ** 2, t[2]! / z ** 2], 1e-6, "separable taps");
    assert.ok(Math.abs(b.reduce((a, v) => a + v, 0) - 1) < 1e-5, "mass is kept");
    assert.deepEqual(Array.from(gaussianBlur(imp, 1, h, w, 0)), Array.from(imp));
  });

  it("colour residual is the squared error averaged over the channels", () => {
    const a = Float32Array.from([0, 1, 0.5, 0.5, 1, 0]); // 3 channels × 2 pixels
    const b = Float32Array.from([0, 0, 0.5, 0, 0, 0]);
    close(squaredErrorMap(a, b, 1, 2), [1 / 3, 1.25 / 3], 1e-7, "hand-computed");
  });


  it("SSIM dissimilarity: 0 for identical images, the hand-computed value for constants, high only where changed", async () => {
    const { ssimDissimilarityMap, blockMean } = await import("../../src/masks/dissimilarity.ts");
    const h = 32;
    const w = 32;
    const rng = makeRng(9);
    const a = Float32Array.from({ length: 3 * h * w }, () => rng.next());
    assert.ok(ssimDissimilarityMap(a, a, h, w).every((v) => Math.abs(v) < 1e-12), "identical → 0");
    // constants 0.5 and 0.25 quantise to 127 and 63 (truncation); variances are 0
    const C1 = (0.01 * 255) ** 2;
    const want = 1 - (2 * 127 * 63 + C1) / (127 ** 2 + 63 ** 2 + C1);
    const d = ssimDissimilarityMap(new Float32Array(3 * h * w).fill(0.5), new Float32Array(3 * h * w).fill(0.25), h, w);
    assert.ok(d.every((v) => Math.abs(v - want) < 1e-12), `constants: ${d[0]} vs ${want}`);
    // change an 8×8 block: the pooled map is highest on that block
    const b = Float32Array.from(a);
    for (let c = 0; c < 3; c++) for (let y = 8; y < 16; y++) for (let x = 16; x < 24; x++) b[(c * h + y) * w + x] = 1 - b[(c * h + y) * w + x]!;
    const pooled = blockMean(ssimDissimilarityMap(a, b, h, w), h, w, 8);
    const top = pooled.indexOf(Math.max(...pooled));
    assert.equal(top, 1 * 4 + 2, `the changed block (row 1, column 2) is the most dissimilar: ${Array.from(pooled).map((v) => v.toFixed(2))}`);
    // a smaller window keeps a one-pixel change local: radius 1 for 3×3, radius 5 for 11×11
    const one = new Float32Array(3 * h * w).fill(0.5);
    for (let c = 0; c < 3; c++) one[(c * h + 16) * w + 16] = 0.9;
    const flat = new Float32Array(3 * h * w).fill(0.5);
    const reach = (win: number) => {
      const m = ssimDissimilarityMap(one, flat, h, w, win);
      return Math.max(...Array.from(m, (v, i) => (v > 1e-9 ? Math.max(Math.abs(Math.floor(i / w) - 16), Math.abs((i % w) - 16)) : 0)));
    };
    assert.deepEqual([reach(3), reach(7), reach(11)], [1, 3, 5]);
    assert.throws(() => ssimDissimilarityMap(one, flat, h, w, 4), /odd/);
  });
});

describe("pixel refinement (morphology + GrabCut, OpenCV.js)", () => {
  it("turns a blocky patch seed into the true shape of a drawn object", async () => {
    const { refineMask } = await import("../../src/masks/refine.ts");
    const h = 64;
    const w = 64;
    const rng = makeRng(4);
    // a red disk (radius 14 at (30, 34)) on a grey-green noisy background
    const truth = new Uint8Array(h * w);
    const image = new Float32Array(3 * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const inside = (x - 30) ** 2 + (y - 34) ** 2 <= 14 ** 2;
        truth[i] = inside ? 1 : 0;
        const noise = 0.06 * (rng.next() - 0.5);
        const [r, g, b] = inside ? [0.85, 0.15, 0.12] : [0.45, 0.55, 0.45];
        image[i] = r + noise;
        image[h * w + i] = g + noise;
        image[2 * h * w + i] = b + noise;
      }
    }
    // the seed: 8×8 patches with more than half their pixels on the disk
    const g = 8;
    const seed = new Uint8Array(g * g);
    for (let py = 0; py < g; py++) for (let px = 0; px < g; px++) {
      let s = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += truth[(py * 8 + y) * w + px * 8 + x]!;
      seed[py * g + px] = s > 32 ? 1 : 0;
    }
    const iou = (m: Uint8Array) => {
      let inter = 0;
      let uni = 0;
      for (let i = 0; i < m.length; i++) {
        inter += m[i]! & truth[i]!;
        uni += m[i]! | truth[i]!;
      }
      return inter / uni;
    };
    const r = await refineMask(seed, g, g, image, h, w);
    assert.ok(r.grabcutUsed, "GrabCut ran");
    assert.ok(iou(r.final) > 0.9 && iou(r.final) > iou(r.upsampled) + 0.05, `IoU blocky seed ${iou(r.upsampled).toFixed(3)} → refined ${iou(r.final).toFixed(3)}`);
  });
});

describe("feature cosine dissimilarity", () => {
  it("is 1 − cos per patch, by hand: equal → 0, orthogonal → 1, opposite → 2, scaled → 0", async () => {
    const { featureCosineDissimilarity } = await import("../../src/masks/dissimilarity.ts");
    // f = 1 frame, c = 2 channels, n = 4 patches; layout [f, c, n]
    const a = [1, 1, 1, 3, /* c1 */ 0, 0, 0, 4];
    const b = [1, 0, -1, 6, /* c1 */ 0, 1, 0, 8];
    const d = featureCosineDissimilarity(a, b, 1, 2, 4);
    const expect = [0, 1, 2, 0];
    for (let p = 0; p < 4; p++) assert.ok(Math.abs(d[p]! - expect[p]!) < 1e-6, `patch ${p}: ${d[p]} vs ${expect[p]}`);
  });
});
