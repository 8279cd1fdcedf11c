/**
 * Pose accuracy of predicted cameras against ground truth, on plain numbers (c2w, row-major 4×4; `cameras.ts`).
 * Predicted poses live in the model's own frame and scale, so they are compared in two ways:
 *
 * 1. **Relative (pairwise) errors**, the RelPose / PoseDiffusion protocol used by RayZer-style evaluations: for every
 *    pair i < j, the relative pose `inv(c2w_i) · c2w_j` (camera j in camera i's frame) of prediction and GT gives
 *    - the rotation error: geodesic angle between the two relative rotations (degrees);
 *    - the translation direction error: angle between the two relative translations R_iᵀ(c_j − c_i) (degrees),
 *      which ignores their lengths (the scale is unknown). When the GT translation is zero the direction is
 *      undefined and the error is NaN; when only the predicted one is zero the error is 180°.
 *    Both are unchanged by any similarity applied to all predicted cameras, so they need no alignment.
 * 2. **Absolute errors after a similarity alignment** of the predicted camera centres onto the GT centres
 *    (Umeyama 1991: scale s, rotation R, translation t minimising Σ |c_gt − (s R c_pred + t)|²): per camera, the
 *    rotation error between R·R_pred and R_gt and the centre error (GT units; its RMS is the ATE).
 *
 * AUC@τ (τ in whole degrees) = mean over thresholds t = 1, 2, …, τ of the fraction of pairs with
 * max(rotation error, translation error) < t — PoseDiffusion's `calculate_auc_np` (histogram with unit bins, cumsum,
 * mean), except that an error of exactly τ counts there and not here. A NaN translation error (GT pair without
 * translation) leaves the rotation error alone; a NaN rotation error counts as a failure.
 */
import {
  add3, dot3, mat3Mul, mat3MulVec, mat3Transpose, mat4FromRt, mat4Mul, mat4Rotation, mat4Translation,
  cross3, norm3, rigidInverse, scale3, sub3, type Mat3, type Mat4, type Vec3,
} from "./mat4.ts";
import { mat3FromQuat, rotationAngleDeg, type Quat } from "./rotations.ts";

/** The similarity x ↦ scale · R · x + t. */
export type Similarity = { scale: number; r: Mat3; t: Vec3 };

/**
 * Least-squares similarity from `src` to `dst` (Umeyama 1991): minimises Σ |dst_i − (s R src_i + t)|² over
 * rotations R (det +1), s > 0 (s = 1 when `withScale` is false) and t. R is found with Horn's quaternion method (the
 * top eigenvector of a symmetric 4×4 built from the cross-covariance), which maximises the same Σ dst'ᵀ R src' as
 * Umeyama's SVD and never returns a reflection; then s = Σ dst'·(R src') / Σ |src'|² (= tr(DS)/σ² in Umeyama's
 * notation) and t = mean(dst) − s R mean(src). Needs ≥ 3 non-collinear points for a unique R; otherwise R is one of
 * the minimisers. All-equal `src` gives s = 1.
 */
export function umeyama(src: readonly Vec3[], dst: readonly Vec3[], withScale = true): Similarity {
  if (src.length !== dst.length || src.length === 0) throw new Error(`umeyama: need equal, non-zero point counts, got ${src.length} and ${dst.length}`);
  const mu = (ps: readonly Vec3[]): Vec3 => scale3(ps.reduce((a, p) => add3(a, p), [0, 0, 0] as Vec3), 1 / ps.length);
  const muS = mu(src);
  const muD = mu(dst);
  const xs = src.map((p) => sub3(p, muS));
  const ys = dst.map((p) => sub3(p, muD));
  const s = [0, 0, 0, 0, 0, 0, 0, 0, 0]; // S_ab = Σ x_a y_b
  xs.forEach((x, i) => {
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s[3 * a + b]! += x[a]! * ys[i]![b]!;
  });
  const [sxx, sxy, sxz, syx, syy, syz, szx, szy, szz] = s as [number, number, number, number, number, number, number, number, number];
  const n4 = [
    [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
    [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
    [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
    [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
  ];
  const { values, vectors } = symmetricEigen(n4);
  const top = values.indexOf(Math.max(...values));
  const r = mat3FromQuat(vectors.map((row) => row[top]!) as Quat);
  const varS = xs.reduce((a, x) => a + dot3(x, x), 0);
  const scale = withScale && varS > 0 ? xs.reduce((a, x, i) => a + dot3(ys[i]!, mat3MulVec(r, x)), 0) / varS : 1;
  return { scale, r, t: sub3(muD, scale3(mat3MulVec(r, muS), scale)) };
}

/** Applies a similarity to a c2w: rotation R·R_c, centre s R c + t. */
export function transformCamera(sim: Similarity, c2w: readonly number[]): Mat4 {
  const centre = add3(scale3(mat3MulVec(sim.r, mat4Translation(c2w)), sim.scale), sim.t);
  return mat4FromRt(mat3Mul(sim.r, mat4Rotation(c2w)), centre);
}

/**
 * The similarity that maps the predicted cameras onto the GT ones, and the aligned predictions.
 * `method: "umeyama"` when there are ≥ 3 cameras and neither the GT nor the predicted centres are (nearly) collinear:
 * the second-largest principal spread is above 1e-6 of the largest (a line leaves the rotation about it
 * undetermined). Otherwise
 * `"firstCamera"`: R = R_gt0 R_pred0ᵀ, s = Σ|c_gt,i − c_gt,0| / Σ|c_pred,i − c_pred,0| (1 when either is 0), and t
 * puts the first predicted centre on the first GT centre, so the first cameras coincide exactly.
 */
export function alignCameras(pred: readonly (readonly number[])[], gt: readonly (readonly number[])[]): { sim: Similarity; method: "umeyama" | "firstCamera"; aligned: Mat4[] } {
  if (pred.length !== gt.length || pred.length === 0) throw new Error(`alignCameras: need equal, non-zero camera counts, got ${pred.length} and ${gt.length}`);
  const cp = pred.map(mat4Translation);
  const cg = gt.map(mat4Translation);
  let sim: Similarity;
  let method: "umeyama" | "firstCamera";
  if (pred.length >= 3 && !nearlyCollinear(cg) && !nearlyCollinear(cp)) {
    sim = umeyama(cp, cg);
    method = "umeyama";
  } else {
    const r = mat3Mul(mat4Rotation(gt[0]!), mat3Transpose(mat4Rotation(pred[0]!)));
    const spreadP = cp.reduce((a, c) => a + norm3(sub3(c, cp[0]!)), 0);
    const spreadG = cg.reduce((a, c) => a + norm3(sub3(c, cg[0]!)), 0);
    const scale = spreadP > 0 && spreadG > 0 ? spreadG / spreadP : 1;
    sim = { scale, r, t: sub3(cg[0]!, scale3(mat3MulVec(r, cp[0]!), scale)) };
    method = "firstCamera";
  }
  return { sim, method, aligned: pred.map((m) => transformCamera(sim, m)) };
}

/** Angle between two vectors in degrees (atan2 of |a×b| and a·b: exact near 0° and 180°). */
export function vectorAngleDeg(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return (Math.atan2(norm3(cross3(a, b)), dot3(a, b)) * 180) / Math.PI;
}

/** Pairwise relative rotation and translation-direction errors (degrees) for all pairs i < j, in order (0,1), (0,2), …, (1,2), … */
export function relativePoseErrors(pred: readonly (readonly number[])[], gt: readonly (readonly number[])[]): { rotErrDeg: number[]; transErrDeg: number[] } {
  if (pred.length !== gt.length) throw new Error(`relativePoseErrors: ${pred.length} predicted cameras but ${gt.length} GT`);
  const rotErrDeg: number[] = [];
  const transErrDeg: number[] = [];
  for (let i = 0; i < pred.length; i++) {
    for (let j = i + 1; j < pred.length; j++) {
      const rp = mat4Mul(rigidInverse(pred[i]!), pred[j]!);
      const rg = mat4Mul(rigidInverse(gt[i]!), gt[j]!);
      rotErrDeg.push(rotationAngleDeg(mat4Rotation(rp), mat4Rotation(rg)));
      const tp = mat4Translation(rp);
      const tg = mat4Translation(rg);
      transErrDeg.push(norm3(tg) === 0 ? NaN : norm3(tp) === 0 ? 180 : vectorAngleDeg(tp, tg));
    }
  }
  return { rotErrDeg, transErrDeg };
}

/** AUC@τ as in the file header, for per-pair rotation and translation errors (degrees); τ a positive integer. */
export function poseAuc(rotErrDeg: readonly number[], transErrDeg: readonly number[], thresholdDeg: number): number {
  if (!Number.isInteger(thresholdDeg) || thresholdDeg < 1) throw new Error(`poseAuc: threshold must be a positive integer of degrees, got ${thresholdDeg}`);
  if (rotErrDeg.length !== transErrDeg.length) throw new Error("poseAuc: rotation and translation error lists differ in length");
  if (rotErrDeg.length === 0) return NaN;
  const errs = rotErrDeg.map((r, i) => (Number.isNaN(transErrDeg[i]!) ? r : Math.max(r, transErrDeg[i]!)));
  let sum = 0;
  for (let t = 1; t <= thresholdDeg; t++) sum += errs.filter((e) => e < t).length / errs.length; // NaN < t is false: a failure
  return sum / thresholdDeg;
}

export type PoseMetrics = {
  /** Pairwise AUC at 5°, 15° and 30°, in [0, 1]. */
  auc5: number;
  auc15: number;
  auc30: number;
  /** Mean pairwise relative rotation error (degrees). */
  relRotErrDeg: number;
  /** Mean pairwise translation direction error (degrees; NaN pairs skipped, NaN if all are). */
  relTransErrDeg: number;
  /** Mean per-camera rotation error after alignment (degrees). */
  absRotErrDeg: number;
  /** RMS camera-centre error after alignment, in GT units (absolute trajectory error). */
  ate: number;
  /** How the alignment was found (see `alignCameras`). */
  alignment: "umeyama" | "firstCamera";
};

/** All pose metrics of predicted cameras against GT (same order, same count, c2w row-major 4×4). */
export function evaluatePoses(pred: readonly (readonly number[])[], gt: readonly (readonly number[])[]): PoseMetrics {
  const { rotErrDeg, transErrDeg } = relativePoseErrors(pred, gt);
  const { aligned, method } = alignCameras(pred, gt);
  const absRot = aligned.map((m, i) => rotationAngleDeg(mat4Rotation(m), mat4Rotation(gt[i]!)));
  const sq = aligned.map((m, i) => {
    const e = sub3(mat4Translation(m), mat4Translation(gt[i]!));
    return dot3(e, e);
  });
  return {
    auc5: poseAuc(rotErrDeg, transErrDeg, 5),
    auc15: poseAuc(rotErrDeg, transErrDeg, 15),
    auc30: poseAuc(rotErrDeg, transErrDeg, 30),
    relRotErrDeg: mean(rotErrDeg),
    relTransErrDeg: mean(transErrDeg.filter((e) => !Number.isNaN(e))),
    absRotErrDeg: mean(absRot),
    ate: Math.sqrt(mean(sq)),
    alignment: method,
  };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, x) => a + x, 0) / xs.length;
}

/** True when the points' second principal spread is below 1e-6 of the first (a line or a single point). */
function nearlyCollinear(ps: readonly Vec3[]): boolean {
  const m = scale3(ps.reduce((a, p) => add3(a, p), [0, 0, 0] as Vec3), 1 / ps.length);
  const c = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (const p of ps) {
    const d = sub3(p, m);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) c[a]![b]! += d[a]! * d[b]!;
  }
  const v = symmetricEigen(c).values.sort((a, b) => b - a); // variances along the principal axes
  return !(v[1]! > 1e-12 * v[0]!); // spreads (square roots) compared at 1e-6
}

/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations (Numerical Recipes `jacobi`):
 * `values[k]` with eigenvector column k of `vectors` (vectors[i][k]). Accurate to rounding for 3×3 and 4×4.
 */
export function symmetricEigen(input: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = input.length;
  const a = input.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const frob = Math.sqrt(a.flat().reduce((s, x) => s + x * x, 0));
  for (let sweep = 0; sweep < 64; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (Math.sqrt(off) <= 1e-17 * frob || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (apq === 0) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}

