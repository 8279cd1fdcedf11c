import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { gaussianBlur, gaussianTaps, separableFilter, type Border } from "../../src/engine/blur.ts";
import { makeRng } from "../../src/engine/rng.ts";

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${what} [${i}]: ${got[i]} vs ${want[i]}`);
};

/** Row `abcd` = 1 2 3 4 padded by 2 on each side, by hand, per border rule (numpy np.pad mode names). */
const PADDED: Record<Exclude<Border, "valid">, number[]> = {
  clamp: [1, 1, 1, 2, 3, 4, 4, 4], // aa|abcd|dd
  reflect: [3, 2, 1, 2, 3, 4, 3, 2], // cb|abcd|cb
  symmetric: [2, 1, 1, 2, 3, 4, 4, 3], // ba|abcd|dc
};

/** `src` [h, w] padded by r on every side with the rule PADDED states (mirrors repeat for short axes). */
function pad(src: Float64Array, h: number, w: number, r: number, border: Exclude<Border, "valid">): Float64Array {
  const at = (i: number, n: number) => {
    let j = i;
    for (;;) {
      if (j >= 0 && j < n) return j;
      if (border === "clamp") return Math.min(n - 1, Math.max(0, j));
      if (border === "reflect") j = j < 0 ? -j : 2 * (n - 1) - j;
      else j = j < 0 ? -1 - j : 2 * n - 1 - j;
    }
  };
  const pw = w + 2 * r;
  return Float64Array.from({ length: (h + 2 * r) * pw }, (_, i) => src[at(Math.floor(i / pw) - r, h) * w + at((i % pw) - r, w)]!);
}

/** The 2-D correlation with the outer-product kernel k ⊗ k over the positions where it fits (no padding). */
function correlate2d(src: Float64Array, h: number, w: number, k: number[]): { data: Float64Array; h: number; w: number } {
  const n = k.length;
  const oh = h - n + 1;
  const ow = w - n + 1;
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += k[i]! * k[j]! * src[(y + i) * w + x + j]!;
      out[y * ow + x] = s;
    }
  return { data: out, h: oh, w: ow };
}

describe("separable filter (src/engine/blur.ts)", () => {
  it("Gaussian taps are exp(−d²/2σ²) normalised, by hand", () => {
    const e = [Math.exp(-2), Math.exp(-0.5), 1];
    const z = 1 + 2 * (e[0]! + e[1]!);
    close(gaussianTaps(5, 1), [e[0]! / z, e[1]! / z, 1 / z, e[1]! / z, e[0]! / z], 1e-16, "5 taps, σ 1");
  });

  it("a delta image gives the normalised 2-D kernel, the outer product of the taps", () => {
    const h = 9;
    const w = 11;
    const delta = new Float32Array(2 * h * w);
    delta[h * w + 4 * w + 5] = 1; // channel 1, row 4, column 5
    const out = gaussianBlur(delta, 2, h, w, 1); // radius ⌈3σ⌉ = 3
    const t = [0, 1, 2, 3].map((d) => Math.exp(-(d * d) / 2));
    const z = t[0]! + 2 * (t[1]! + t[2]! + t[3]!);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const dy = Math.abs(y - 4);
        const dx = Math.abs(x - 5);
        const want = dy <= 3 && dx <= 3 ? (t[dy]! * t[dx]!) / (z * z) : 0;
        assert.ok(Math.abs(out[h * w + y * w + x]! - want) < 1e-7, `(${y}, ${x}): ${out[h * w + y * w + x]} vs ${want}`);
        assert.equal(out[y * w + x], 0, "channel 0 stays zero: channels are filtered apart");
      }
    assert.ok(Math.abs(out.reduce((a, v) => a + v, 0) - 1) < 1e-6, "the kernel sums to 1");
    assert.deepEqual(Array.from(gaussianBlur(delta, 2, h, w, 0)), Array.from(delta), "σ = 0 copies");
  });

  it("pads each border as stated: one-hot taps read the padded row", () => {
    const row = Float64Array.from([1, 2, 3, 4]);
    for (const border of ["clamp", "reflect", "symmetric"] as const) {
      // taps one-hot at k: output x reads padded position x + k (padding 2), so k = 0 and k = 4 read the borders
      const read = [0, 1, 2, 3, 4].map((k) => Array.from(separableFilter(row, 1, 4, [0, 1, 2, 3, 4].map((t) => (t === k ? 1 : 0)), border).data));
      const padded = [...read[0]!.slice(0, 2), ...read[2]!, ...read[4]!.slice(2)];
      assert.deepEqual(padded, PADDED[border], border);
      assert.deepEqual(read[1], PADDED[border].slice(1, 5), `${border}: k = 1`);
    }
    // "valid": only where the kernel fits, correlation (taps not flipped): each row [1, 2, 3, 4] ⋆ [1, 10, 100] =
    // [321, 432]; three equal rows, then the column pass: × (1 + 10 + 100)
    const valid = separableFilter(Float64Array.from([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]), 3, 4, [1, 10, 100], "valid");
    assert.deepEqual([valid.h, valid.w, ...valid.data], [1, 2, 321 * 111, 432 * 111]);
  });

  it("separable passes equal the 2-D correlation with the outer-product kernel, for every border", () => {
    const rng = makeRng(3);
    const h = 7;
    const w = 10;
    const src = Float64Array.from({ length: h * w }, () => rng.next());
    const k = [0.5, -1, 2, 0.25, 3]; // not symmetric, not normalised: catches flips and transposes
    const want = correlate2d(src, h, w, k);
    const got = separableFilter(src, h, w, k, "valid");
    assert.deepEqual([got.h, got.w], [want.h, want.w]);
    close(got.data, want.data, 1e-12, "valid");
    for (const border of ["clamp", "reflect", "symmetric"] as const) {
      const ref = correlate2d(pad(src, h, w, 2, border), h + 4, w + 4, k);
      const out = separableFilter(src, h, w, k, border);
      assert.deepEqual([out.h, out.w], [h, w], `${border} keeps the size`);
      close(out.data, ref.data, 1e-12, border);
    }
  });

  it("a divisor turns running sums into means (a box filter); Float32 in gives Float32 out", () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]); // [3, 3]
    const box = separableFilter(src, 3, 3, [1, 1, 1], "valid", 3);
    assert.ok(box.data instanceof Float32Array, "element type kept");
    assert.deepEqual(Array.from(box.data), [5], "the mean of 1..9");
    assert.throws(() => separableFilter(src, 3, 3, [1, 1], "clamp"), /odd/);
    assert.throws(() => separableFilter(src, 3, 3, [1, 1, 1, 1, 1], "valid"), /at least 5×5/);
  });
});
