import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, gradcheck, np, randValues, values } from "../helpers/engine.ts";
import { avgPoolPatches, interpolationMatrix, resizeBilinear } from "../../src/engine/image.ts";

before(engine);

describe("bilinear resize", () => {
  it("upsamples 2 → 4 with half-pixel centres (PyTorch align_corners=False)", async () => {
    // in [a, b]; outputs sample x = -0.25 (clamped → a), 0.25, 0.75, 1.25 (clamped → b)
    assertClose(Array.from(interpolationMatrix(2, 4)), [1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
    const y = await values(resizeBilinear(arr([0, 4, 8, 12], [1, 1, 2, 2]), 4, 4));
    // rows interpolate [0, 4] and [8, 12] the same way, then columns
    const row = (a: number, b: number) => [a, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, b];
    const r0 = row(0, 4);
    const r1 = row(8, 12);
    const expected = [0, 1, 2, 3].flatMap((i) => {
      const [wa, wb] = [
        [1, 0],
        [0.75, 0.25],
        [0.25, 0.75],
        [0, 1],
      ][i]!;
      return r0.map((v, j) => wa! * v + wb! * r1[j]!);
    });
    assertClose(y, expected, 1e-6, 1e-6);
  });
  it("downsamples 4 → 2 by averaging the two middle neighbours", async () => {
    // out i samples x = 2i + 0.5: the mean of inputs 2i and 2i+1
    const y = await values(resizeBilinear(arr([1, 3, 5, 7], [1, 1, 1, 4]), 1, 2));
    assertClose(y, [2, 6]);
  });
  it("keeps a constant image constant and is the identity at the same size", async () => {
    const c = await values(resizeBilinear(np.full([2, 3, 5, 7], 0.3), 9, 4));
    assertClose(c, new Array(2 * 3 * 9 * 4).fill(0.3), 1e-6, 1e-6);
    const v = randValues(1, [1, 2, 4, 6]);
    assertClose(await values(resizeBilinear(arr(v, [1, 2, 4, 6]), 4, 6)), v, 1e-6, 0);
  });
  it("has the right gradient", async () => {
    const w = randValues(2, [1, 2, 5, 3]);
    await gradcheck((x) => np.sum(resizeBilinear(x, 5, 3).mul(arr(w, [1, 2, 5, 3]))), randValues(3, [1, 2, 3, 4]), [1, 2, 3, 4]);
  });
});

describe("average pooling to the patch grid", () => {
  it("averages each p×p block", async () => {
    const v = Array.from({ length: 16 }, (_, i) => i); // 4×4, value = 4y + x
    const y = await values(avgPoolPatches(arr(v, [1, 1, 4, 4]), 2));
    assert.deepEqual(y, [2.5, 4.5, 10.5, 12.5]);
  });
  it("has the right gradient", async () => {
    const w = randValues(4, [2, 1, 2, 3]);
    await gradcheck((x) => np.sum(np.square(avgPoolPatches(x, 2)).mul(arr(w, [2, 1, 2, 3]))), randValues(5, [2, 1, 4, 6]), [2, 1, 4, 6]);
  });
});
