// Copy-paste augmentation (src/data/copyPaste.ts): the resize helpers against hand-computed values and a
// per-pixel reference written here, the composite (pasted pixels, untouched pixels bitwise, union masks, border
// clipping), the random draws (probability, object count, shared vs per-view objects, ranges, seeding) and the
// segments cut from hand-made and generated scenes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CopyPasteConfigSchema,
  DEFAULT_COPY_PASTE,
  copyPaste,
  fitSize,
  pasteSegment,
  resizeBilinearPlanar,
  resizeNearestMask,
  resizeSegment,
  segmentsOf,
  synthSegments,
  type CopyPasteConfig,
  type Placement,
  type Segment,
} from "../../src/data/copyPaste.ts";
import { SYNTH_PRESETS } from "../../src/data/config.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { makeRng, type Rng } from "../../src/engine/rng.ts";
import type { Frame } from "../../src/data/scene.ts";

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => Object.is(x, b[i]));
const randImage = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.next());

/** Bilinear with half-pixel centres and clamped edges, written per output pixel (independent of the module's taps). */
function refBilinear(src: Float32Array, c: number, h: number, w: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(c * oh * ow);
  const at = (i: number, size: number, outSize: number) => {
    const s = Math.min(Math.max((i + 0.5) * (size / outSize) - 0.5, 0), size - 1);
    const i0 = Math.floor(s);
    return { i0, i1: Math.min(i0 + 1, size - 1), t: s - i0 };
  };
  for (let k = 0; k < c; k++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const { i0: y0, i1: y1, t: ty } = at(y, h, oh);
        const { i0: x0, i1: x1, t: tx } = at(x, w, ow);
        const v = (yy: number, xx: number) => src[(k * h + yy) * w + xx]!;
        out[(k * oh + y) * ow + x] = (1 - ty) * ((1 - tx) * v(y0, x0) + tx * v(y0, x1)) + ty * ((1 - tx) * v(y1, x0) + tx * v(y1, x1));
      }
  return out;
}

/** OpenCV INTER_NEAREST: source index floor(i · in / out). */
function refNearest(m: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) out[y * ow + x] = m[Math.floor((y * h) / oh) * w + Math.floor((x * w) / ow)]!;
  return out;
}

/** The sample `placements` describe, composited here from the reference resizes: images and union masks. */
function expectedPaste(images: Float32Array, v: number, h: number, w: number, segs: readonly Segment[], placements: readonly Placement[]) {
  const img = images.slice();
  const masks = new Uint8Array(v * h * w);
  for (const p of placements) {
    const s = segs[p.segment]!;
    const rimg = refBilinear(s.image, 3, s.h, s.w, p.h, p.w);
    const rmask = refNearest(s.mask, s.h, s.w, p.h, p.w);
    for (let y = 0; y < p.h; y++)
      for (let x = 0; x < p.w; x++) {
        const [ty, tx] = [p.y + y, p.x + x];
        if (ty >= h || tx >= w || rmask[y * p.w + x] === 0) continue;
        masks[(p.view * h + ty) * w + tx] = 1;
        for (let k = 0; k < 3; k++) img[((p.view * 3 + k) * h + ty) * w + tx] = rimg[(k * p.h + y) * p.w + x]!;
      }
  }
  return { img, masks };
}

/** A generator that always returns `c` (with makeRng's uniform/int formulas), to pin the order of the draws. */
const constRng = (c: number): Rng => ({ next: () => c, uniform: (lo, hi) => lo + (hi - lo) * c, int: (n) => Math.floor(c * n), normal: () => 0, fork: () => constRng(c) });

/** A 2×3 segment: channel 0 by hand, channels 1 and 2 constant. */
const SEG23: Segment = {
  h: 2,
  w: 3,
  image: Float32Array.from([0, 0.3, 0.9, 0.6, 0.2, 1, ...Array(6).fill(0.5), ...Array(6).fill(0.25)]),
  mask: Uint8Array.from([1, 0, 1, 1, 1, 0]),
};
/** SEG23 resized to 2×4, by hand: x_src = (i + 0.5)·3/4 − 0.5 = −0.125 → 0, 0.625, 1.375, 2.125 → 2. */
const SEG23_AT_2X4 = [0, 0.1875, 0.525, 0.9, 0.6, 0.35, 0.5, 1]; // channel 0, rows 0 and 1
const SEG23_MASK_AT_2X4 = [1, 1, 0, 1, 1, 1, 1, 0]; // source columns floor(i·3/4) = 0, 0, 1, 2

/** A pool of random segments of different sizes and aspects, with random masks (at least one pixel set). */
function randomSegments(rng: Rng, n: number): Segment[] {
  return Array.from({ length: n }, () => {
    const h = 2 + rng.int(9), w = 2 + rng.int(9);
    const mask = Uint8Array.from({ length: h * w }, () => (rng.next() < 0.7 ? 1 : 0));
    mask[0] = 1;
    return { h, w, image: randImage(rng, 3 * h * w), mask };
  });
}

const P1: CopyPasteConfig = { ...DEFAULT_COPY_PASTE, probability: 1 };

describe("copy-paste resize helpers", () => {
  it("fitSize: the largest aspect-keeping size inside the s·W × s·H box, truncated", () => {
    assert.deepEqual(fitSize(2, 3, 8, 8, 0.5), { h: 2, w: 4 }); // box 4×4, factor 4/3: 2.67 → 2, 4
    assert.deepEqual(fitSize(10, 20, 32, 32, 0.25), { h: 4, w: 8 }); // box 8×8, factor 0.4
    assert.deepEqual(fitSize(30, 6, 64, 32, 0.3), { h: 19, w: 3 }); // box 9 wide × 19 high, factor 19/30: 3.8 → 3
    assert.deepEqual(fitSize(100, 1, 8, 8, 0.25), { h: 2, w: 1 }); // never below one pixel
  });

  it("a 2×3 segment resized to 2×4 gives the hand-computed pixels and nearest mask", () => {
    const r = resizeSegment(SEG23, 2, 4);
    assert.deepEqual([r.h, r.w], [2, 4]);
    SEG23_AT_2X4.forEach((e, i) => assert.ok(Math.abs(r.image[i]! - e) < 1e-6, `channel 0 pixel ${i}: ${r.image[i]} vs ${e}`));
    for (let i = 8; i < 16; i++) assert.ok(Math.abs(r.image[i]! - 0.5) < 1e-7, `channel 1 pixel ${i - 8}`);
    for (let i = 16; i < 24; i++) assert.ok(Math.abs(r.image[i]! - 0.25) < 1e-7, `channel 2 pixel ${i - 16}`);
    assert.deepEqual([...r.mask], SEG23_MASK_AT_2X4);
  });

  it("bilinear matches the per-pixel reference and the nearest mask stays binary, up and down, any aspect", () => {
    const rng = makeRng(5);
    for (const [h, w, oh, ow] of [[5, 7, 11, 3], [9, 4, 2, 13], [1, 6, 4, 4], [8, 8, 8, 8], [13, 17, 5, 6]] as const) {
      const src = randImage(rng, 3 * h * w);
      const got = resizeBilinearPlanar(src, 3, h, w, oh, ow);
      const want = refBilinear(src, 3, h, w, oh, ow);
      const err = Math.max(...got.map((g, i) => Math.abs(g - want[i]!)));
      assert.ok(err < 1e-6, `${h}×${w} → ${oh}×${ow}: max error ${err}`);
      const m = Uint8Array.from({ length: h * w }, () => (rng.next() < 0.5 ? 1 : 0));
      const rm = resizeNearestMask(m, h, w, oh, ow);
      assert.ok(rm.every((x) => x === 0 || x === 1), `${h}×${w} → ${oh}×${ow}: mask not binary`);
      assert.deepEqual([...rm], [...refNearest(m, h, w, oh, ow)], `${h}×${w} → ${oh}×${ow}: nearest indices`);
    }
  });
});

describe("pasteSegment", () => {
  it("replaces exactly the masked pixels, clips at the right and bottom border, leaves the rest bitwise", () => {
    const [H, W] = [8, 8];
    const bg = randImage(makeRng(1), 3 * H * W);
    const img = bg.slice();
    const mask = new Uint8Array(H * W);
    pasteSegment(img, mask, H, W, resizeSegment(SEG23, 2, 4), 6, 7); // only its row 0, columns 0–1 land (at (7, 6), (7, 7))
    const want = new Map([[7 * W + 6, [0, 0.5, 0.25]], [7 * W + 7, [0.1875, 0.5, 0.25]]]);
    for (let p = 0; p < H * W; p++) {
      assert.equal(mask[p], want.has(p) ? 1 : 0, `mask at ${p}`);
      for (let k = 0; k < 3; k++) {
        const got = img[k * H * W + p]!;
        if (want.has(p)) assert.ok(Math.abs(got - want.get(p)![k]!) < 1e-6, `pixel ${p} channel ${k}: ${got}`);
        else assert.ok(Object.is(got, bg[k * H * W + p]), `pixel ${p} channel ${k} changed`);
      }
    }
  });
});

describe("copyPaste", () => {
  it("with the corner and scale forced, pastes the resized 2×3 segment at (6, 6) of every 8×8 view, clipped", () => {
    const cfg: CopyPasteConfig = { probability: 1, objects: [1, 1], perViewProbability: 0, scale: [0.5, 0.5], corner: [0.75, 0.75] };
    const [v, H, W] = [2, 8, 8];
    const images = randImage(makeRng(2), v * 3 * H * W);
    const before = images.slice();
    const r = copyPaste(makeRng(3), images, v, H, W, [SEG23], cfg);
    assert.ok(sameBits(images, before), "the input images were written");
    assert.equal(r.pasted, true);
    assert.deepEqual(r.placements, [0, 1].map((view) => ({ view, segment: 0, x: 6, y: 6, h: 2, w: 4 })));
    // Columns 6 and 7 of the 2×4 paste survive: resized columns 0 and 1 of both rows.
    const want = new Map([[6 * W + 6, SEG23_AT_2X4[0]!], [6 * W + 7, SEG23_AT_2X4[1]!], [7 * W + 6, SEG23_AT_2X4[4]!], [7 * W + 7, SEG23_AT_2X4[5]!]]);
    for (let view = 0; view < v; view++)
      for (let p = 0; p < H * W; p++) {
        assert.equal(r.masks[view * H * W + p], want.has(p) ? 1 : 0, `view ${view} mask at ${p}`);
        for (let k = 0; k < 3; k++) {
          const i = (view * 3 + k) * H * W + p;
          if (want.has(p)) assert.ok(Math.abs(r.images[i]! - [want.get(p)!, 0.5, 0.25][k]!) < 1e-6, `view ${view} pixel ${p} channel ${k}`);
          else assert.ok(Object.is(r.images[i], images[i]), `view ${view} pixel ${p} channel ${k} changed`);
        }
      }
  });

  it("two objects at one corner: the mask is their union and the later one covers the earlier", () => {
    const a: Segment = { h: 2, w: 2, image: new Float32Array(12).fill(0.1), mask: Uint8Array.from([1, 1, 1, 0]) };
    const b: Segment = { h: 2, w: 2, image: new Float32Array(12).fill(0.9), mask: Uint8Array.from([0, 1, 0, 1]) };
    const cfg: CopyPasteConfig = { probability: 1, objects: [2, 2], perViewProbability: 0, scale: [0.25, 0.25], corner: [0.5, 0.5] };
    const images = new Float32Array(3 * 8 * 8).fill(0.5);
    // The two draws can pick the same segment; over these seeds both orders and both singles occur.
    const seen = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const r = copyPaste(makeRng(seed), images, 1, 8, 8, [a, b], cfg);
      const order = r.placements.map((p) => p.segment);
      seen.add(order.join(""));
      const segs = order.map((i) => [a, b][i]!);
      for (let p = 0; p < 64; p++) {
        const [y, x] = [Math.floor(p / 8) - 4, (p % 8) - 4]; // both at (4, 4), 2×2 (box 2, no resize)
        const inside = y >= 0 && y < 2 && x >= 0 && x < 2;
        const covering = inside ? segs.filter((s) => s.mask[y * 2 + x] === 1) : [];
        assert.equal(r.masks[p], covering.length > 0 ? 1 : 0, `seed ${seed} mask at ${p}`);
        const value = covering.length > 0 ? covering[covering.length - 1]!.image[0]! : 0.5;
        for (let k = 0; k < 3; k++) assert.equal(r.images[k * 64 + p], value, `seed ${seed} pixel ${p} channel ${k}`);
      }
    }
    assert.deepEqual([...seen].sort(), ["00", "01", "10", "11"]);
  });

  it("default draws on 6 views of 32²: images and masks equal the reference composite of the placements, ranges hold", () => {
    const [v, H, W] = [6, 32, 32];
    const segs = randomSegments(makeRng(7), 12);
    const box = (s: number) => Math.trunc(W * s); // square image: the same box both ways
    let perViewSeen = false, sharedSeen = false;
    for (let seed = 0; seed < 16; seed++) {
      const images = randImage(makeRng(100 + seed), v * 3 * H * W);
      const before = images.slice();
      const r = copyPaste(makeRng(seed), images, v, H, W, segs, P1);
      assert.ok(sameBits(images, before), `seed ${seed}: the input images were written`);
      assert.equal(r.pasted, true);
      const { img, masks } = expectedPaste(images, v, H, W, segs, r.placements);
      assert.deepEqual([...r.masks], [...masks], `seed ${seed}: masks differ from the union of the placements`);
      for (let i = 0; i < img.length; i++) {
        const pix = Math.floor(i / (3 * H * W)) * H * W + (i % (H * W));
        if (masks[pix]) assert.ok(Math.abs(r.images[i]! - img[i]!) < 1e-6, `seed ${seed} value ${i}: ${r.images[i]} vs ${img[i]}`);
        else assert.ok(Object.is(r.images[i], images[i]), `seed ${seed} value ${i} changed outside the mask`);
      }
      const perViewLists = Array.from({ length: v }, (_, view) => r.placements.filter((p) => p.view === view).map((p) => p.segment).join(","));
      for (const list of perViewLists) assert.ok([1, 2].includes(list.split(",").length), `seed ${seed}: ${list}`);
      if (new Set(perViewLists).size > 1) perViewSeen = true;
      else sharedSeen = true;
      for (const p of r.placements) {
        assert.ok(p.x >= Math.trunc(0.15 * W) && p.x <= Math.trunc(0.85 * W) && p.y >= Math.trunc(0.15 * H) && p.y <= Math.trunc(0.85 * H), `seed ${seed}: corner ${p.x}, ${p.y}`);
        const s = segs[p.segment]!;
        const [lo, hi] = [fitSize(s.h, s.w, H, W, 0.25), fitSize(s.h, s.w, H, W, 0.35)];
        assert.ok(p.h >= lo.h && p.w >= lo.w && p.h <= hi.h && p.w <= hi.w && p.h <= box(0.35) && p.w <= box(0.35), `seed ${seed}: size ${p.h}×${p.w} of ${s.h}×${s.w}`);
      }
    }
    assert.ok(perViewSeen && sharedSeen, `16 samples at perViewProbability 0.5 gave per-view ${perViewSeen}, shared ${sharedSeen}`);
  });

  it("shared objects (perViewProbability 0) go into every view, at positions that jump between views", () => {
    const segs = randomSegments(makeRng(8), 20);
    let jumps = 0;
    for (let seed = 0; seed < 10; seed++) {
      const r = copyPaste(makeRng(seed), new Float32Array(4 * 3 * 16 * 16), 4, 16, 16, segs, { ...P1, perViewProbability: 0 });
      const lists = [0, 1, 2, 3].map((view) => r.placements.filter((p) => p.view === view).map((p) => p.segment));
      for (const l of lists) assert.deepEqual(l, lists[0], `seed ${seed}: views got different objects`);
      const corners = new Set(r.placements.filter((p) => p.segment === lists[0]![0]).map((p) => `${p.x},${p.y}`));
      if (corners.size > 1) jumps++;
    }
    assert.ok(jumps >= 9, `the first object stayed put in ${10 - jumps} of 10 samples`);
    // perViewProbability 1 with 20 segments: views draw their own objects.
    const r = copyPaste(makeRng(1), new Float32Array(4 * 3 * 16 * 16), 4, 16, 16, segs, { ...P1, perViewProbability: 1 });
    const lists = [0, 1, 2, 3].map((view) => r.placements.filter((p) => p.view === view).map((p) => p.segment).join(","));
    assert.ok(new Set(lists).size > 1, `per-view objects were all the same: ${lists.join(" | ")}`);
  });

  it("probability 0 returns an unchanged copy and zero masks", () => {
    const images = randImage(makeRng(4), 3 * 3 * 8 * 8);
    const r = copyPaste(makeRng(1), images, 3, 8, 8, [SEG23], { ...DEFAULT_COPY_PASTE, probability: 0 });
    assert.equal(r.pasted, false);
    assert.notEqual(r.images, images, "the result must be a new array");
    assert.ok(sameBits(r.images, images), "images changed");
    assert.ok(r.masks.length === 3 * 64 && r.masks.every((m) => m === 0), "masks not all zero");
    assert.deepEqual(r.placements, []);
  });

  it("the same seed gives identical output, another seed a different one", () => {
    const segs = randomSegments(makeRng(9), 6);
    const images = randImage(makeRng(10), 6 * 3 * 32 * 32);
    const [a, b, c] = [1, 1, 2].map((s) => copyPaste(makeRng(s), images, 6, 32, 32, segs, P1));
    assert.ok(sameBits(a!.images, b!.images) && sameBits(a!.masks, b!.masks), "seed 1 twice differs");
    assert.deepEqual(a!.placements, b!.placements);
    assert.ok(!sameBits(a!.masks, c!.masks) && !sameBits(a!.images, c!.images), "seeds 1 and 2 agree");
  });

  it("draws in the official order (checked with constant generators) and at the configured rates", () => {
    const segs = randomSegments(makeRng(11), 5);
    const img = new Float32Array(2 * 3 * 30 * 30);
    // All draws 0: paste, own objects per view, n = 1, segment 0, corner (trunc 4.5, trunc 4.5), s = 0.25.
    const z = copyPaste(constRng(0), img, 2, 30, 30, segs, DEFAULT_COPY_PASTE);
    const s0 = fitSize(segs[0]!.h, segs[0]!.w, 30, 30, 0.25);
    assert.deepEqual(z.placements, [0, 1].map((view) => ({ view, segment: 0, x: 4, y: 4, ...s0 })));
    // All draws 0.79: paste (< 0.8), shared (≥ 0.5), n = 1 + floor(1.58) = 2, segment floor(3.95) = 3 twice,
    // corner trunc(4.5 + 21·0.79) = 21, s = 0.25 + 0.1·0.79.
    const c = copyPaste(constRng(0.79), img, 2, 30, 30, segs, DEFAULT_COPY_PASTE);
    const s3 = fitSize(segs[3]!.h, segs[3]!.w, 30, 30, 0.25 + (0.35 - 0.25) * 0.79);
    assert.deepEqual(c.placements, [0, 0, 1, 1].map((view) => ({ view, segment: 3, x: 21, y: 21, ...s3 })));
    assert.equal(copyPaste(constRng(0.8), img, 2, 30, 30, segs, DEFAULT_COPY_PASTE).pasted, false);
    // Rates over 4000 samples: pasted ≈ 0.8, one object vs two ≈ half each.
    const rng = makeRng(12);
    let pasted = 0, ones = 0;
    const small = new Float32Array(3 * 4 * 4);
    for (let i = 0; i < 4000; i++) {
      const r = copyPaste(rng, small, 1, 4, 4, segs, DEFAULT_COPY_PASTE);
      if (r.pasted) pasted++;
      if (r.placements.length === 1) ones++;
    }
    assert.ok(Math.abs(pasted / 4000 - 0.8) < 0.025, `pasted ${pasted} of 4000`);
    assert.ok(Math.abs(ones / pasted - 0.5) < 0.04, `one object in ${ones} of ${pasted}`);
  });

  it("rejects images of the wrong length and an empty pool", () => {
    assert.throws(() => copyPaste(makeRng(1), new Float32Array(10), 1, 4, 4, [SEG23], P1), /\[1, 3, 4, 4\] needs 48/);
    assert.throws(() => copyPaste(makeRng(1), new Float32Array(48), 1, 4, 4, [], P1), /segment pool is empty/);
  });
});

describe("copy-paste config", () => {
  it("the defaults are the official stage-3 numbers and parse; bad ranges and unknown keys are rejected", () => {
    assert.deepEqual(DEFAULT_COPY_PASTE, { probability: 0.8, objects: [1, 2], perViewProbability: 0.5, scale: [0.25, 0.35], corner: [0.15, 0.85] });
    assert.deepEqual(CopyPasteConfigSchema.parse(DEFAULT_COPY_PASTE), DEFAULT_COPY_PASTE);
    const bad = (over: object) => CopyPasteConfigSchema.safeParse({ ...DEFAULT_COPY_PASTE, ...over }).success;
    assert.equal(bad({ scale: [0.35, 0.25] }), false, "reversed scale");
    assert.equal(bad({ objects: [0, 2] }), false, "zero objects");
    assert.equal(bad({ probability: 1.5 }), false, "probability 1.5");
    assert.equal(bad({ corner: [0.1, 1.2] }), false, "corner past 1");
    assert.equal(bad({ blend: true }), false, "unknown key");
  });
});

describe("segments", () => {
  it("segmentsOf: one tight crop per 8-connected region, its mask holding only that region; tiny ones skipped", () => {
    const [h, w] = [7, 8];
    const image = randImage(makeRng(13), 3 * h * w);
    const mask = new Uint8Array(h * w);
    const set = (pts: [number, number][]) => pts.forEach(([y, x]) => (mask[y * w + x] = 1));
    set([[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [3, 1], [4, 1]]); // L: rows 1–4, columns 1–4 (7 px)
    set([[4, 4], [4, 5], [5, 5], [6, 6]]); // 4 px, (6, 6) joined only diagonally; inside the L's box at (4, 4)
    set([[0, 7], [1, 7]]); // 2 px: a region of its own
    const frames: Frame[] = [{ name: "0", image, mask }, { name: "1", image }];
    const segs = segmentsOf({ h, w, frames });
    assert.deepEqual(segs.map((s) => [s.h, s.w, s.origin]), [[4, 4, { frame: 0, x: 1, y: 1 }], [3, 3, { frame: 0, x: 4, y: 4 }]]);
    assert.deepEqual([...segs[0]!.mask], [1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]); // (4, 4) is the other region's
    assert.deepEqual([...segs[1]!.mask], [1, 1, 0, 0, 1, 0, 0, 0, 1]);
    for (const s of segs)
      for (let k = 0; k < 3; k++)
        for (let y = 0; y < s.h; y++)
          for (let x = 0; x < s.w; x++) assert.equal(s.image[(k * s.h + y) * s.w + x], image[(k * h + y + s.origin!.y) * w + x + s.origin!.x]);
    assert.equal(segmentsOf({ h, w, frames }, 2).length, 3, "the 2-px region at minPixels 2");
  });

  it("synthSegments: movers forced on, every segment a frame crop of a mover region of at least 4 pixels", () => {
    const cfg = { ...SYNTH_PRESETS.tiny, frames: 2, movers: [0, 0] as [number, number] };
    for (const seed of [1, 2, 3]) {
      const segs = synthSegments(seed, cfg);
      assert.ok(segs.length > 0, `seed ${seed}: a generated scene with a forced mover gave no segment`);
      const scene = generateScene(seed, { ...cfg, movers: [1, 1] });
      assert.deepEqual(segs, segmentsOf(scene), `seed ${seed}: not the segments of the scene with one mover`);
      for (const s of segs) {
        const f = scene.frames[s.origin!.frame]!;
        assert.ok(s.mask.reduce((a, b) => a + b, 0) >= 4, `seed ${seed}: segment under 4 px`);
        for (let y = 0; y < s.h; y++)
          for (let x = 0; x < s.w; x++) {
            const p = (y + s.origin!.y) * scene.w + x + s.origin!.x;
            if (s.mask[y * s.w + x]) assert.equal(f.mask[p], 1, `seed ${seed}: segment pixel off the mover`);
            for (let k = 0; k < 3; k++) assert.equal(s.image[(k * s.h + y) * s.w + x], f.image[k * scene.h * scene.w + p]);
          }
      }
    }
    assert.deepEqual(segmentsOf(generateScene(1, cfg)), [], "movers [0, 0] itself has no mover segments");
  });
});
