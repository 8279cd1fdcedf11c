import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "../helpers/engine.ts";
import {
  alignCameras, evaluatePoses, poseAuc, relativePoseErrors, symmetricEigen, transformCamera, umeyama, vectorAngleDeg,
  type Similarity,
} from "../../src/geometry/poseMetrics.ts";
import { lookAt, mat3MulVec, mat3Transpose, mat4FromRt, mat4Identity, mat4Translation, scale3, sub3, add3, type Mat4, type Vec3 } from "../../src/geometry/mat4.ts";
import { axisAngleToMat3 } from "../../src/geometry/rotations.ts";
import { makeRng } from "../../src/engine/rng.ts";

const deg = Math.PI / 180;

function randomPoints(seed: number, n: number): Vec3[] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, () => [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2)] as Vec3);
}

const apply = (s: Similarity, p: Vec3): Vec3 => add3(scale3(mat3MulVec(s.r, p), s.scale), s.t);

/** The inverse similarity: x ↦ (Rᵀ (x − t)) / s. */
const invert = (s: Similarity): Similarity => {
  const rt = mat3Transpose(s.r);
  return { scale: 1 / s.scale, r: rt, t: scale3(mat3MulVec(rt, s.t), -1 / s.scale) };
};

/** Cameras on a circle looking at the origin (not collinear). */
function ring(n: number, seed = 0): Mat4[] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = (2 * Math.PI * i) / n;
    return lookAt([3 * Math.cos(a), rng.uniform(-0.5, 0.5), 3 * Math.sin(a)], [0, 0, 0]);
  });
}

describe("symmetricEigen", () => {
  it("matches hand values for [[2,1],[1,2]] and satisfies A v = λ v for a 4×4", () => {
    const { values, vectors } = symmetricEigen([[2, 1], [1, 2]]);
    const order = values[0]! < values[1]! ? [0, 1] : [1, 0];
    assertClose(order.map((k) => values[k]!), [1, 3], 1e-15, 0);
    const vTop = vectors.map((row) => row[order[1]!]!);
    assertClose(vTop.map((x) => Math.abs(x)), [Math.SQRT1_2, Math.SQRT1_2], 1e-15, 0);
    const a = [[4, 1, -2, 0.5], [1, 3, 0, 1], [-2, 0, 5, 2], [0.5, 1, 2, -1]];
    const eig = symmetricEigen(a);
    for (let k = 0; k < 4; k++) {
      const v = eig.vectors.map((row) => row[k]!);
      const av = a.map((row) => row.reduce((s, x, j) => s + x * v[j]!, 0));
      assertClose(av, v.map((x) => eig.values[k]! * x), 1e-12, 0, `eigenpair ${k}`);
    }
  });
});

describe("umeyama", () => {
  it("recovers a hand-made similarity from three points", () => {
    // dst = 2 · Rz(90°) · src + (1,1,1)
    const src: Vec3[] = [[0, 0, 0], [1, 0, 0], [0, 1, 0]];
    const dst: Vec3[] = [[1, 1, 1], [1, 3, 1], [-1, 1, 1]];
    const s = umeyama(src, dst);
    assertClose([s.scale], [2], 1e-12, 0, "s.scale");
    assertClose(s.r, [0, -1, 0, 1, 0, 0, 0, 0, 1], 1e-12, 0);
    assertClose(s.t, [1, 1, 1], 1e-12, 0);
  });
  it("recovers a known scale, rotation and translation of random points to 1e-9, also near 180°", () => {
    for (const [axis, angle] of [[[1, 2, 3], 0.7], [[-1, 0.3, 0.2], Math.PI - 1e-3], [[0, 0, 1], Math.PI]] as [Vec3, number][]) {
      const truth: Similarity = { scale: 2.5, r: axisAngleToMat3(axis, angle), t: [0.3, -1, 2] };
      const src = randomPoints(51, 10);
      const s = umeyama(src, src.map((p) => apply(truth, p)));
      assertClose([s.scale], [2.5], 1e-9, 0, `scale ${s.scale}`);
      assertClose(s.r, truth.r, 1e-9, 0, "rotation");
      assertClose(s.t, truth.t, 1e-9, 0, "translation");
    }
  });
  it("without scale, fits a rigid motion (scale 1) and the least-squares scale otherwise", () => {
    const src = randomPoints(52, 6);
    const truth: Similarity = { scale: 1, r: axisAngleToMat3([0, 1, 0], 1.2), t: [1, 2, 3] };
    const rigid = umeyama(src, src.map((p) => apply(truth, p)), false);
    assert.equal(rigid.scale, 1);
    assertClose(rigid.r, truth.r, 1e-9, 0);
    // dst = 3 · src exactly: scale 3, identity, zero translation
    const scaled = umeyama(src, src.map((p) => scale3(p, 3)));
    assertClose([scaled.scale], [3], 1e-12, 0, "scaled.scale");
    assertClose(scaled.r, [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12, 0);
  });
});

describe("alignCameras", () => {
  const truth: Similarity = { scale: 0.4, r: axisAngleToMat3([0.2, 1, -0.5], 2.0), t: [5, -1, 0.5] };
  it("with ≥ 3 cameras undoes a similarity applied to the GT cameras (Umeyama)", () => {
    const gt = ring(5);
    const pred = gt.map((m) => transformCamera(invert(truth), m));
    const { aligned, method, sim } = alignCameras(pred, gt);
    assert.equal(method, "umeyama");
    assertClose([sim.scale], [truth.scale], 1e-9, 0, "sim.scale");
    aligned.forEach((m, i) => assertClose(m, gt[i]!, 1e-9, 0, `camera ${i}`));
  });
  it("with 2 cameras aligns by the first camera and the centre distance", () => {
    const gt = [lookAt([0, 0, 0], [0, 0, 1]), lookAt([2, 0, 0], [2, 0, 1])];
    const pred = [mat4FromRt(axisAngleToMat3([0, 1, 0], 0.3), [1, 1, 1]), mat4FromRt(axisAngleToMat3([0, 1, 0], 0.3), [1, 1, 1.5])];
    const { aligned, method, sim } = alignCameras(pred, gt);
    assert.equal(method, "firstCamera");
    assertClose([sim.scale], [4], 1e-12, 0, "sim.scale"); // |gt1 − gt0| / |pred1 − pred0| = 2 / 0.5
    assertClose(aligned[0]!, gt[0]!, 1e-12, 0);
    // R = R_gt0 · R_pred0ᵀ = R_y(−0.3), so the world offset (0, 0, 0.5) maps to 4 · R_y(−0.3) · (0, 0, 0.5)
    assertClose(mat4Translation(aligned[1]!), [-2 * Math.sin(0.3), 0, 2 * Math.cos(0.3)], 1e-12, 0);
  });
  it("falls back to the first camera for collinear GT or predicted centres", () => {
    const line = [0, 1, 2, 3].map((x) => lookAt([x, 0, 0], [x, 0, 1]));
    assert.equal(alignCameras(line, line).method, "firstCamera");
    assert.equal(alignCameras(line, ring(4)).method, "firstCamera"); // predicted centres on a line
    assert.equal(alignCameras(ring(4), line).method, "firstCamera"); // GT centres on a line
  });
});

describe("relative pose errors", () => {
  it("match a hand-made pair: 10° rotation error and 45° translation direction error", () => {
    const gt = [mat4Identity(), mat4FromRt([1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 0, 0])];
    const pred = [mat4Identity(), mat4FromRt(axisAngleToMat3([0, 1, 0], 10 * deg), [1, 0, 1])];
    const { rotErrDeg, transErrDeg } = relativePoseErrors(pred, gt);
    assertClose(rotErrDeg, [10], 1e-12, 0);
    assertClose(transErrDeg, [45], 1e-12, 0);
  });
  it("express the translation in the first camera's frame", () => {
    // GT: both cameras yawed 90° (R_y), centres (0,0,0) and (0,0,−1): R_y(90°)ᵀ·(0,0,−1) = (1,0,0).
    // Prediction: both unrotated, centres (0,0,0) and (3,0,0): relative translation (3,0,0). The world offsets differ
    // by 90° but the relative poses agree, so both errors are 0.
    const r = axisAngleToMat3([0, 1, 0], Math.PI / 2);
    const gt = [mat4FromRt(r, [0, 0, 0]), mat4FromRt(r, [0, 0, -1])];
    const pred = [mat4Identity(), mat4FromRt([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 0, 0])];
    const { rotErrDeg, transErrDeg } = relativePoseErrors(pred, gt);
    assertClose([...rotErrDeg, ...transErrDeg], [0, 0], 1e-12, 0, "rot, trans");
  });
  it("are unchanged by a similarity applied to all predicted cameras", () => {
    const gt = ring(4, 1);
    const pred = ring(4, 2).map((m, i) => mat4FromRt(axisAngleToMat3([1, 0, 0], 0.05 * i), sub3(mat4Translation(m), [0.1 * i, 0, 0])));
    const before = relativePoseErrors(pred, gt);
    const moved = pred.map((m) => transformCamera({ scale: 3, r: axisAngleToMat3([1, 1, 1], 1), t: [4, 5, 6] }, m));
    const after = relativePoseErrors(moved, gt);
    assert.equal(before.rotErrDeg.length, 6);
    assertClose(after.rotErrDeg, before.rotErrDeg, 1e-9, 0);
    assertClose(after.transErrDeg, before.transErrDeg, 1e-9, 0);
  });
  it("give NaN for a GT pair without translation and 180° for a zero predicted one", () => {
    const gt = [mat4Identity(), mat4FromRt(axisAngleToMat3([0, 1, 0], 0.2), [0, 0, 0]), mat4FromRt([1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 0, 0])];
    const pred = [mat4Identity(), mat4Identity(), mat4Identity()];
    const { transErrDeg } = relativePoseErrors(pred, gt);
    assert.ok(Number.isNaN(transErrDeg[0]!), `pair (0,1) has no GT translation: expected NaN, got ${transErrDeg[0]}`);
    assert.equal(transErrDeg[1], 180); // (0,2): GT translated, prediction not
  });
  it("vectorAngleDeg matches hand values", () => {
    assertClose([vectorAngleDeg([1, 0, 0], [0, 2, 0]), vectorAngleDeg([1, 0, 0], [-3, 0, 0]), vectorAngleDeg([1, 1, 0], [1, 0, 0])], [90, 180, 45], 1e-12, 0);
  });
});

describe("poseAuc", () => {
  it("matches a hand computation at 5° and 30°", () => {
    const rot = [0.5, 1, 4, 10];
    const trans = [0.2, 2.5, 3, NaN]; // max errors 0.5, 2.5, 4, 10 (the NaN pair uses its rotation error)
    // τ = 5: fractions below t = 1..5 are 1/4, 1/4, 2/4, 2/4, 3/4 → mean 0.45
    assertClose([poseAuc(rot, trans, 5)], [0.45], 1e-15, 0, "AUC@5");
    // τ = 30: counts 1, 1, 2, 2, then 3 for t = 5..10, then 4 for t = 11..30 → (6 + 18 + 80) / 4 / 30
    assertClose([poseAuc(rot, trans, 30)], [104 / 120], 1e-15, 0, "AUC@30");
    assert.equal(poseAuc([0, 0], [0, 0], 15), 1);
    assert.equal(poseAuc([NaN], [0], 5), 0);
    assert.throws(() => poseAuc(rot, trans, 2.5), /positive integer/);
  });
});

describe("evaluatePoses", () => {
  it("scores predictions equal to GT up to a similarity as perfect", () => {
    const gt = ring(6, 3);
    const pred = gt.map((m) => transformCamera({ scale: 7, r: axisAngleToMat3([1, -2, 0.5], 2.5), t: [1, 2, 3] }, m));
    const m = evaluatePoses(pred, gt);
    assert.equal(m.alignment, "umeyama");
    assert.deepEqual([m.auc5, m.auc15, m.auc30], [1, 1, 1]);
    assertClose([m.relRotErrDeg, m.relTransErrDeg, m.absRotErrDeg, m.ate], [0, 0, 0, 0], 1e-6, 0, "rel rot, rel trans, abs rot, ATE");
  });
  it("reports a known rotation error for one perturbed camera", () => {
    const gt = ring(3, 4);
    const pred = gt.map((m, i) => (i === 2 ? mat4FromRt(multiplyRotation(m, axisAngleToMat3([0, 0, 1], 20 * deg)), mat4Translation(m)) : m));
    const m = evaluatePoses(pred, gt);
    // pairs (0,1) 0°, (0,2) 20°, (1,2) 20° rotation error; centres unchanged ⇒ translation errors 0
    assertClose([m.relRotErrDeg], [40 / 3], 1e-9, 0, "relRotErrDeg");
    assertClose([m.relTransErrDeg, m.ate], [0, 0], 1e-9, 0, "rel trans, ATE");
    // max errors 0, 20, 20: AUC@15 = 1/3, AUC@30 = (1·19 + 3·11)/3/30 (20 < t for t ≥ 21)
    assertClose([m.auc15], [1 / 3], 1e-12, 0, "AUC@15");
    assertClose([m.auc30], [(19 + 33) / 90], 1e-12, 0, "AUC@30");
  });
});

/** c2w with its rotation post-multiplied by r (a rotation in the camera's own frame). */
function multiplyRotation(m: Mat4, r: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out.push(m[4 * i]! * r[j]! + m[4 * i + 1]! * r[3 + j]! + m[4 * i + 2]! * r[6 + j]!);
  return out;
}
