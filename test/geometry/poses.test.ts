import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, gradcheck, np, randValues, values } from "../helpers/engine.ts";
import { cameraPath, interpolateCamera, interpolateCameras, invertRigidArray, relativeToFirst, relativeToFirstArray } from "../../src/geometry/poses.ts";
import { lookAt, mat4Identity } from "../../src/geometry/mat4.ts";
import type { Camera } from "../../src/geometry/cameras.ts";

before(engine);

// c2w_0 = T(1,2,3)·Rz(90°): camera 0's x axis is world +y.
const cam0 = [0, -1, 0, 1, 1, 0, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1];
// camera 1: same rotation, one unit along world +y = camera 0's +x.
const cam1 = [0, -1, 0, 1, 1, 0, 0, 3, 0, 0, 1, 3, 0, 0, 0, 1];
// camera 2: identity rotation at (1,2,3): relative rotation Rz(90°)ᵀ = Rz(−90°), no translation.
const cam2 = [1, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1];
const expected = [mat4Identity(), [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]];

describe("relative poses", () => {
  it("inv(c2w_0) · c2w_i on plain numbers matches hand values", () => {
    const rel = relativeToFirst([cam0, cam1, cam2]);
    rel.forEach((m, i) => assertClose(m, expected[i]!, 1e-15, 0, `camera ${i}`));
    assert.deepEqual(relativeToFirst([]), []);
  });
  it("invertRigidArray is [Rᵀ −Rᵀt] (batched)", async () => {
    const inv = invertRigidArray(arr([...cam0, ...mat4Identity()], [2, 1, 4, 4]));
    assert.deepEqual(inv.shape, [2, 1, 4, 4]);
    assertClose(await values(inv), [0, 1, 0, -2, -1, 0, 0, 1, 0, 0, 1, -3, 0, 0, 0, 1, ...mat4Identity()], 1e-6, 0);
  });
  it("the array version matches hand values for every sample", async () => {
    const other = lookAt([1, -2, 0.5], [0, 0, 3]);
    const rel = relativeToFirstArray(arr([...cam0, ...cam1, ...cam2, ...other, ...other, ...other], [2, 3, 4, 4]));
    assert.deepEqual(rel.shape, [2, 3, 4, 4]);
    const v = await values(rel);
    assertClose(v.slice(0, 48), expected.flat(), 1e-6, 0);
    assertClose(v.slice(48), [...mat4Identity(), ...mat4Identity(), ...mat4Identity()], 1e-6, 0);
  });
  it("the array version has the right gradient", async () => {
    const c = randValues(41, [1, 3, 4, 4]);
    const x0 = Float32Array.from([...cam0, ...cam1, ...lookAt([1, -2, 0.5], [0, 0, 3])]);
    await gradcheck((m) => np.sum(relativeToFirstArray(m).mul(arr(c, [1, 3, 4, 4]))), x0, [1, 3, 4, 4], { eps: 1e-3 });
  });
});

describe("camera interpolation", () => {
  const c = Math.SQRT1_2;
  const a: Camera = { c2w: mat4Identity(), fxfycxcy: [100, 100, 32, 32] };
  // 90° yaw (about y) at (2, 0, 4) with other intrinsics
  const b: Camera = { c2w: [0, 0, 1, 2, 0, 1, 0, 0, -1, 0, 0, 4, 0, 0, 0, 1], fxfycxcy: [200, 120, 30, 34] };
  it("halfway between 0° and 90° yaw is 45° yaw, with centre and intrinsics halfway", () => {
    const m = interpolateCamera(a, b, 0.5);
    assertClose(m.c2w, [c, 0, c, 1, 0, 1, 0, 0, -c, 0, c, 2, 0, 0, 0, 1], 1e-15, 0);
    assertClose(m.fxfycxcy, [150, 110, 31, 33], 1e-12, 0);
  });
  it("interpolateCameras includes both ends", () => {
    const cams = interpolateCameras(a, b, 3);
    assert.equal(cams.length, 3);
    assertClose(cams[0]!.c2w, a.c2w, 1e-15, 0);
    assertClose(cams[2]!.c2w, b.c2w, 1e-15, 0);
    assertClose(cams[2]!.fxfycxcy, b.fxfycxcy, 1e-12, 0);
    assert.equal(interpolateCameras(a, b, 1).length, 1);
    assert.throws(() => interpolateCameras(a, b, 0), /positive integer/);
  });
  it("cameraPath passes through every key once: (keys − 1) · steps + 1 cameras", () => {
    const k3: Camera = { c2w: lookAt([0, 0, 0], [0, 0, -1], [0, 1, 0]), fxfycxcy: [100, 100, 32, 32] };
    const path = cameraPath([a, b, k3], 4);
    assert.equal(path.length, 9);
    assertClose(path[4]!.c2w, b.c2w, 1e-15, 0);
    assertClose(path[8]!.c2w, k3.c2w, 0, 0);
    // path[2] is halfway from a to b
    assertClose(path[2]!.c2w, interpolateCamera(a, b, 0.5).c2w, 0, 0);
    assert.equal(cameraPath([a], 5).length, 1);
  });
});
