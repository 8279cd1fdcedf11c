import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as lib from "../../src/index.ts";
import { assertClose } from "../helpers/engine.ts";

describe("library API", () => {
  it("starts the engine and computes Plücker rays through the public exports", async () => {
    const info = await lib.startEngine({ device: "wasm" });
    assert.equal(info.device, "wasm");
    const { numpy: np } = await import("@jax-js/jax");
    // Identity camera, 1×1 image with fx = fy = 1 and the principal point at the pixel centre: the ray is +z.
    const rays = lib.pluckerRays(np.array(lib.mat4Mul(lib.lookAt([0, 0, 0], [0, 0, 1]), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])).reshape([1, 4, 4]), np.array([1, 1, 0.5, 0.5]).reshape([1, 4]), 1, 1);
    assertClose(Array.from((await rays.data()) as Float32Array), [0, 0, 0, 0, 0, 1], 1e-6, 0, "plücker");
  });
});
