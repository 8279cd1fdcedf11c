import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, gradcheck, np, randValues, values } from "../helpers/engine.ts";
import { pixelRay, pluckerRays } from "../../src/geometry/rays.ts";
import { cross3, lookAt, mat4Identity, normalize3, type Vec3 } from "../../src/geometry/mat4.ts";
import type { Camera, Intrinsics } from "../../src/geometry/cameras.ts";

before(engine);

/** Plücker values of a [6, h, w] image at pixel (x, y). */
function at(img: number[], h: number, w: number, x: number, y: number): number[] {
  return Array.from({ length: 6 }, (_, c) => img[c * h * w + y * w + x]!);
}

// 90° yaw: columns x = (0,0,−1), y = (0,1,0), z = (1,0,0); centre (1,2,3).
const yaw90 = [0, 0, 1, 1, 0, 1, 0, 2, -1, 0, 0, 3, 0, 0, 0, 1];
const k3: Intrinsics = [2, 2, 1.5, 1.5]; // 3×3 image, principal point at its centre
const r15 = 1 / Math.sqrt(1.5);

describe("pluckerRays", () => {
  it("a camera at the origin looking down +z: centre ray (0,0,1), corner ray (−.5,−.5,1)/|·|, zero moments", async () => {
    const out = pluckerRays(arr(mat4Identity(), [1, 4, 4]), arr(k3, [1, 4]), 3, 3);
    assert.deepEqual(out.shape, [1, 6, 3, 3]);
    const img = await values(out);
    assertClose(at(img, 3, 3, 1, 1), [0, 0, 0, 0, 0, 1], 1e-7, 0);
    assertClose(at(img, 3, 3, 0, 0), [0, 0, 0, -0.5 * r15, -0.5 * r15, r15], 1e-6, 0);
    assertClose(at(img, 3, 3, 2, 0), [0, 0, 0, 0.5 * r15, -0.5 * r15, r15], 1e-6, 0); // top-right pixel: +x (right), −y (up)
  });
  it("a 90° yaw camera off the origin: centre ray +x with moment t × d", async () => {
    const img = await values(pluckerRays(arr(yaw90, [1, 4, 4]), arr(k3, [1, 4]), 3, 3));
    // d = (1,0,0); (1,2,3) × (1,0,0) = (0, 3, −2)
    assertClose(at(img, 3, 3, 1, 1), [0, 3, -2, 1, 0, 0], 1e-6, 0);
    // corner: R·(−.5, −.5, 1) = (1, −.5, .5); moment (1,2,3) × that = (2·.5 + 3·.5, 3·1 − 1·.5, 1·(−.5) − 2·1)
    const d = [r15, -0.5 * r15, 0.5 * r15];
    assertClose(at(img, 3, 3, 0, 0), [2.5 * r15, 2.5 * r15, -2.5 * r15, ...d], 1e-6, 0);
  });
  it("the moment equals p × d for any point p on the ray; directions are unit", async () => {
    const c2w = lookAt([0.3, -1, 2], [1, 0.5, -1]);
    const k: Intrinsics = [3.5, 4, 2.2, 1.4];
    const img = await values(pluckerRays(arr(c2w, [1, 4, 4]), arr(k, [1, 4]), 3, 4));
    for (const [x, y] of [[0, 0], [3, 2], [1, 2]] as const) {
      const p = at(img, 3, 4, x, y);
      const d: Vec3 = [p[3]!, p[4]!, p[5]!];
      assertClose([Math.hypot(...d)], [1], 1e-6, 0, "|d|");
      const point: Vec3 = [0.3 + 2.7 * d[0], -1 + 2.7 * d[1], 2 + 2.7 * d[2]];
      assertClose(p.slice(0, 3), cross3(point, d), 1e-5, 0);
    }
  });
  it("handles [b, v] leading axes, non-square images and per-view intrinsics", async () => {
    const c2ws = [mat4Identity(), yaw90, lookAt([0, 0, 0], [0, 1, 1]), yaw90, mat4Identity(), yaw90];
    const ks: Intrinsics[] = [[2, 2, 1.5, 1], [1, 3, 0, 0], [2, 1, 1, 1], [2, 2, 1.5, 1], [4, 4, 3, 1], [1, 1, 1, 1]];
    const out = pluckerRays(arr(c2ws.flat(), [2, 3, 4, 4]), arr(ks.flat(), [2, 3, 4]), 2, 3);
    assert.deepEqual(out.shape, [2, 3, 6, 2, 3]);
    const img = await values(out);
    for (let i = 0; i < 6; i++) {
      for (const [x, y] of [[2, 0], [0, 1], [1, 1]] as const) {
        const { origin, dir } = pixelRay({ c2w: c2ws[i]!, fxfycxcy: ks[i]! }, x, y);
        assertClose(at(img.slice(i * 36, (i + 1) * 36), 2, 3, x, y), [...cross3(origin, dir), ...dir], 1e-6, 1e-6, `view ${i} pixel ${x},${y}`);
      }
    }
    // view 0, pixel (2, 0): d ∝ ((2.5 − 1.5)/2, (0.5 − 1)/2, 1) = (0.5, −0.25, 1)
    assertClose(at(img, 2, 3, 2, 0).slice(3), normalize3([0.5, -0.25, 1]), 1e-6, 0);
  });
  it("rejects mismatched shapes", () => {
    assert.throws(() => pluckerRays(np.zeros([2, 4, 4]), np.zeros([3, 4]), 2, 2), /same leading axes/);
  });
  it("has the right gradients with respect to c2w and the intrinsics", async () => {
    const c = randValues(31, [2, 6, 2, 3]);
    const c2w0 = Float32Array.from([...lookAt([0.3, -1, 2], [1, 0.5, -1]), ...yaw90]);
    const k0 = Float32Array.from([3.5, 4, 2.2, 1.4, 2, 2.5, 1, 1.5]);
    const weights = () => arr(c, [2, 6, 2, 3]);
    await gradcheck((m) => np.sum(pluckerRays(m, arr(k0, [2, 4]), 2, 3).mul(weights())), c2w0, [2, 4, 4], { eps: 1e-3 });
    await gradcheck((k) => np.sum(pluckerRays(arr(c2w0, [2, 4, 4]), k, 2, 3).mul(weights())), k0, [2, 4], { eps: 1e-3 });
  });
});

describe("pixelRay", () => {
  it("matches hand values for the identity and the 90° yaw camera", () => {
    const cam: Camera = { c2w: mat4Identity(), fxfycxcy: k3 };
    assert.deepEqual(pixelRay(cam, 1, 1), { origin: [0, 0, 0], dir: [0, 0, 1] });
    assertClose(pixelRay(cam, 0, 0).dir, [-0.5 * r15, -0.5 * r15, r15], 1e-15, 0);
    const yaw = pixelRay({ c2w: yaw90, fxfycxcy: k3 }, 1, 1);
    assert.deepEqual(yaw.origin, [1, 2, 3]);
    assertClose(yaw.dir, [1, 0, 0], 1e-15, 0);
    // x = −0.5 is the left edge of the image: u = (0 − 1.5)/2
    assertClose(pixelRay(cam, -0.5, 1).dir, normalize3([-0.75, 0, 1]), 1e-15, 0);
  });
});
