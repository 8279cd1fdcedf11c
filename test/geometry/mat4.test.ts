import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "../helpers/engine.ts";
import {
  cross3, dot3, lerp3, lookAt, mat3Det, mat3Mul, mat3MulVec, mat3Transpose, mat4FromRt, mat4Identity, mat4Mul,
  normalize3, rigidInverse, transformDir, transformPoint,
} from "../../src/geometry/mat4.ts";

// T(1,2,3) · Rz(90°): rotation takes x → y, y → −x.
const rz90 = [0, -1, 0, 1, 0, 0, 0, 0, 1];
const pose = [0, -1, 0, 1, 1, 0, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1];

describe("vectors", () => {
  it("cross, dot, normalize and lerp match hand values", () => {
    assert.deepEqual(cross3([1, 0, 0], [0, 1, 0]), [0, 0, 1]);
    assert.deepEqual(cross3([1, 2, 3], [4, 5, 6]), [-3, 6, -3]);
    assert.equal(dot3([1, 2, 3], [4, 5, 6]), 32);
    assertClose(normalize3([3, 4, 0]), [0.6, 0.8, 0], 1e-15, 0);
    assert.deepEqual(lerp3([0, 0, 0], [2, 4, -6], 0.25), [0.5, 1, -1.5]);
    assert.throws(() => normalize3([0, 0, 0]), /zero vector/);
  });
});

describe("3×3 matrices", () => {
  it("multiply, transpose, apply and determinant match hand values", () => {
    assert.deepEqual(mat3MulVec(rz90, [1, 0, 0]), [0, 1, 0]);
    assert.deepEqual(mat3Mul(rz90, rz90), [-1, 0, 0, 0, -1, 0, 0, 0, 1]); // Rz(180°)
    assert.deepEqual(mat3Mul(mat3Transpose(rz90), rz90), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.equal(mat3Det([2, 0, 0, 0, 3, 0, 0, 0, 4]), 24);
    assert.equal(mat3Det([0, 1, 0, 1, 0, 0, 0, 0, 1]), -1);
  });
});

describe("4×4 matrices", () => {
  it("multiply composes translation after rotation", () => {
    const t = [1, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1];
    assert.deepEqual(mat4Mul(t, mat4FromRt(rz90, [0, 0, 0])), pose);
    assert.deepEqual(mat4Mul(mat4Identity(), pose), pose);
  });
  it("rigidInverse is [Rᵀ −Rᵀt]", () => {
    // Rᵀ = Rz(−90°); Rᵀ·(1,2,3) = (2,−1,3)
    assert.deepEqual(rigidInverse(pose), [0, 1, 0, -2, -1, 0, 0, 1, 0, 0, 1, -3, 0, 0, 0, 1]);
    assertClose(mat4Mul(rigidInverse(pose), pose), mat4Identity(), 1e-15, 0);
  });
  it("transforms points with translation and directions without", () => {
    assert.deepEqual(transformPoint(pose, [1, 0, 0]), [1, 3, 3]);
    assert.deepEqual(transformDir(pose, [1, 0, 0]), [0, 1, 0]);
  });
});

describe("lookAt", () => {
  it("a camera at the origin looking down +z is the identity", () => {
    assertClose(lookAt([0, 0, 0], [0, 0, 5]), mat4Identity(), 0, 0);
  });
  it("looking down +x is a 90° yaw (rotation about y): right = −z, down = +y", () => {
    const m = lookAt([1, 2, 3], [4, 2, 3]);
    // columns x = (0,0,−1), y = (0,1,0), z = (1,0,0); centre (1,2,3)
    assertClose(m, [0, 0, 1, 1, 0, 1, 0, 2, -1, 0, 0, 3, 0, 0, 0, 1], 1e-15, 0);
  });
  it("with a y-up world, the image's up is world +y", () => {
    const m = lookAt([0, 0, 0], [0, 0, 1], [0, 1, 0]);
    assertClose(m, [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 1e-15, 0); // Rz(180°)
  });
  it("rejects an up vector parallel to the viewing direction", () => {
    assert.throws(() => lookAt([0, 0, 0], [0, 2, 0]), /parallel/);
  });
});
