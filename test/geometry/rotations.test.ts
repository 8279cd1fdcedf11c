import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, gradcheck, np, randValues, values } from "../helpers/engine.ts";
import {
  axisAngleToMat3, mat3FromQuat, matrixToRot6d, quatFromMat3, quatSlerp, rot6dToMat3, rot6dToMatrix, rotationAngleDeg,
} from "../../src/geometry/rotations.ts";

before(engine);

const I3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
const rz90 = [0, -1, 0, 1, 0, 0, 0, 0, 1];
const ry90 = [0, 0, 1, 0, 1, 0, -1, 0, 0];
const s2 = Math.SQRT2;
const s3 = Math.sqrt(3);
const s6 = Math.sqrt(6);
// Gram–Schmidt of a1 = (1,1,0), a2 = (0,1,1): b1 = (1,1,0)/√2, b2 = (−1,1,2)/√6, b3 = b1 × b2 = (1,−1,1)/√3 (columns).
const gsCase = [1, 1, 0, 0, 1, 1];
const gsMatrix = [1 / s2, -1 / s6, 1 / s3, 1 / s2, 1 / s6, -1 / s3, 0, 2 / s6, 1 / s3];

describe("6D rotations on arrays", () => {
  it("maps [1,0,0, 0,1,0] to the identity and a non-orthogonal pair to its Gram–Schmidt matrix (columns)", async () => {
    const r = rot6dToMatrix(arr([1, 0, 0, 0, 1, 0, ...gsCase, 3, 0, 0, 2, 5, 0], [3, 1, 6]));
    assert.deepEqual(r.shape, [3, 1, 3, 3]);
    // third case: a1 = (3,0,0) → b1 = x; a2 − (x·a2)x = (0,5,0) → b2 = y; b3 = z
    assertClose(await values(r), [...I3, ...gsMatrix, ...I3], 1e-6, 0);
  });
  it("matrixToRot6d returns the first two columns", async () => {
    const six = matrixToRot6d(arr([...rz90, ...gsMatrix], [2, 3, 3]));
    assert.deepEqual(six.shape, [2, 6]);
    // Rz(90°) columns: (0,1,0), (−1,0,0)
    assertClose(await values(six), [0, 1, 0, -1, 0, 0, 1 / s2, 1 / s2, 0, -1 / s6, 1 / s6, 2 / s6], 1e-6, 0);
  });
  it("rot6dToMatrix(matrixToRot6d(R)) = R for a rotation", async () => {
    const r = axisAngleToMat3([1, 2, 3], 2.1);
    assertClose(await values(rot6dToMatrix(matrixToRot6d(arr(r, [1, 3, 3])))), r, 1e-6, 0);
  });
  it("has the right gradient", async () => {
    const c = randValues(21, [2, 3, 3]);
    await gradcheck((x) => np.sum(rot6dToMatrix(x).mul(arr(c, [2, 3, 3]))), randValues(22, [2, 6]), [2, 6], { eps: 1e-3 });
  });
  it("rot6dToMat3 (plain numbers) gives the same hand-computed matrix", () => {
    assertClose(rot6dToMat3(gsCase), gsMatrix, 1e-15, 0);
    assertClose(rot6dToMat3([1, 0, 0, 0, 1, 0]), I3, 0, 0);
  });
});

describe("quaternions", () => {
  it("quatFromMat3 matches hand values, including the 180° branches", () => {
    const c = Math.SQRT1_2;
    assertClose(quatFromMat3(rz90), [c, 0, 0, c], 1e-15, 0);
    assertClose(quatFromMat3(ry90), [c, 0, c, 0], 1e-15, 0);
    assertClose(quatFromMat3([1, 0, 0, 0, -1, 0, 0, 0, -1]), [0, 1, 0, 0], 1e-15, 0);
    assertClose(quatFromMat3([-1, 0, 0, 0, 1, 0, 0, 0, -1]), [0, 0, 1, 0], 1e-15, 0);
    assertClose(quatFromMat3([-1, 0, 0, 0, -1, 0, 0, 0, 1]), [0, 0, 0, 1], 1e-15, 0);
    assertClose(quatFromMat3(I3), [1, 0, 0, 0], 0, 0);
  });
  it("mat3FromQuat matches hand values and normalises its input", () => {
    const c = Math.SQRT1_2;
    assertClose(mat3FromQuat([c, 0, 0, c]), rz90, 1e-15, 0);
    assertClose(mat3FromQuat([2, 0, 0, 0]), I3, 0, 0);
    assertClose(mat3FromQuat([0, 0, 3, 0]), [-1, 0, 0, 0, 1, 0, 0, 0, -1], 1e-15, 0);
  });
  it("quatFromMat3 inverts mat3FromQuat for a generic rotation", () => {
    const r = axisAngleToMat3([-1, 0.5, 2], 2.9);
    assertClose(mat3FromQuat(quatFromMat3(r)), r, 1e-14, 0);
  });
  it("slerp halfway between 0° and 90° yaw is 45° yaw, also when one end is given as −q", () => {
    const c = Math.SQRT1_2;
    const half = [Math.cos(Math.PI / 8), 0, Math.sin(Math.PI / 8), 0];
    assertClose(quatSlerp([1, 0, 0, 0], [c, 0, c, 0], 0.5), half, 1e-15, 0);
    assertClose(quatSlerp([1, 0, 0, 0], [-c, 0, -c, 0], 0.5), half, 1e-15, 0);
    assertClose(quatSlerp([1, 0, 0, 0], [c, 0, c, 0], 0), [1, 0, 0, 0], 1e-15, 0);
    assertClose(quatSlerp([1, 0, 0, 0], [c, 0, c, 0], 1), [c, 0, c, 0], 1e-15, 0);
    assertClose([rotationAngleDeg(I3, mat3FromQuat(quatSlerp([1, 0, 0, 0], [c, 0, c, 0], 0.5)))], [45], 1e-12, 0, "angle of the halfway rotation");
    // one third of the way: 30° about y
    assertClose(mat3FromQuat(quatSlerp([1, 0, 0, 0], [c, 0, c, 0], 1 / 3)), [Math.cos(Math.PI / 6), 0, 0.5, 0, 1, 0, -0.5, 0, Math.cos(Math.PI / 6)], 1e-15, 0);
  });
});

describe("axis–angle and geodesic angle", () => {
  it("axisAngleToMat3 gives the hand-written 90° rotations", () => {
    assertClose(axisAngleToMat3([0, 0, 2], Math.PI / 2), rz90, 1e-15, 0);
    assertClose(axisAngleToMat3([0, 1, 0], Math.PI / 2), ry90, 1e-15, 0);
  });
  it("rotationAngleDeg matches hand values", () => {
    assert.equal(rotationAngleDeg(I3, I3), 0);
    assertClose([rotationAngleDeg(I3, rz90)], [90], 1e-12, 0, "rotationAngleDeg(I3, rz90)");
    assertClose([rotationAngleDeg(I3, [1, 0, 0, 0, -1, 0, 0, 0, -1])], [180], 1e-12, 0, "angle to Rx(180°)");
    const a = axisAngleToMat3([1, 1, 0], (10 * Math.PI) / 180);
    const b = axisAngleToMat3([1, 1, 0], (50 * Math.PI) / 180);
    assertClose([rotationAngleDeg(a, b)], [40], 1e-12, 0, "rotationAngleDeg(a, b)");
    assertClose([rotationAngleDeg(I3, axisAngleToMat3([0, 0, 1], 1e-7))], [1e-7 * (180 / Math.PI)], 1e-18, 0, "angle of a 1e-7 rad rotation"); // acos would lose this
  });
  it("stays finite for a slightly non-orthonormal matrix (no acos outside [−1, 1])", () => {
    const scaled = I3.map((x) => x * (1 + 1e-9));
    const angle = rotationAngleDeg(I3, scaled);
    assert.ok(Number.isFinite(angle) && angle < 1e-6, `angle ${angle}`);
  });
});
