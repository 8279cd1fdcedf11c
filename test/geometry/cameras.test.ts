import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, gradcheck, np, values } from "../helpers/engine.ts";
import { denormalizeIntrinsics, denormalizeIntrinsicsArray, intrinsicsFromFov, normalizeIntrinsics } from "../../src/geometry/cameras.ts";

before(engine);

describe("intrinsics", () => {
  it("normalise fx, cx by the width and fy, cy by the height", () => {
    assert.deepEqual(normalizeIntrinsics([320, 160, 128, 64], 128, 256), [1.25, 1.25, 0.5, 0.5]);
    assert.deepEqual(denormalizeIntrinsics([1.25, 1.25, 0.5, 0.5], 128, 256), [320, 160, 128, 64]);
  });
  it("denormalise on arrays, batched and differentiable", async () => {
    const k = denormalizeIntrinsicsArray(arr([1.25, 1.25, 0.5, 0.5, 1, 2, 0.25, 0.75], [2, 4]), 128, 256);
    assert.deepEqual(k.shape, [2, 4]);
    assertClose(await values(k), [320, 160, 128, 64, 256, 256, 64, 96], 1e-4, 0);
    await gradcheck((x) => np.sum(np.square(denormalizeIntrinsicsArray(x, 4, 8))), Float32Array.from([1, 2, 0.5, 0.25]), [4]);
  });
  it("a 90° horizontal field of view has f = W / 2; the the official default 1.25 normalised focal is ≈ 43.6°", () => {
    assertClose(intrinsicsFromFov(90, 64, 128), [64, 64, 64, 32], 1e-12, 0);
    const fov = (2 * Math.atan(1 / (2 * 1.25)) * 180) / Math.PI;
    assertClose([fov], [43.6], 0.05, 0, "fov");
    assertClose(normalizeIntrinsics(intrinsicsFromFov(fov, 256, 256), 256, 256), [1.25, 1.25, 0.5, 0.5], 1e-12, 0);
  });
});
