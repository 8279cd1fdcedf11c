/**
 * Rotation representations. On arrays (batched, differentiable; the camera estimator's output): the continuous 6D
 * representation ↔ 3×3 matrix. On plain numbers: quaternions ↔ matrix, slerp, axis–angle, and the geodesic angle
 * between two rotations (pose metrics, camera paths).
 *
 * 6D → matrix is Gram–Schmidt as docs/METHOD.md §2.5 (Zhou et al. 2019; wild-rayzer `PoseEstimator`): with the 6 numbers
 * read as two 3-vectors `a1 = x[0:3]`, `a2 = x[3:6]`,
 *   b1 = a1/|a1|,  b2 = normalize(a2 − (b1·a2) b1),  b3 = b1 × b2,  R = [b1 b2 b3] as COLUMNS,
 * so the 6D vector of R is its first two columns and `[1,0,0, 0,1,0]` is the identity. (PyTorch3D's
 * `rotation_6d_to_matrix` stacks the b's as rows instead; we follow the docs/METHOD.md.) Normalisation divides by
 * max(|v|, 1e-12) like PyTorch's `F.normalize`.
 *
 * Quaternions are `[w, x, y, z]` (scalar first), unit length, and returned with w ≥ 0.
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { cross3, dot3, normalize3, scale3, sub3, mat3FromColumns, type Mat3, type Vec3 } from "./mat4.ts";

/** A unit quaternion `[w, x, y, z]`. */
export type Quat = [number, number, number, number];

/** `v / max(|v|, 1e-12)` over the last axis. Consumes `v` [..., 3]; returns [..., 3]. */
function normalizeLast(v: JArray): JArray {
  const n = np.sqrt(np.sum(np.square(v.ref), -1, { keepdims: true })); // [..., 1]
  return v.div(np.maximum(n, 1e-12)); // [..., 3]
}

/**
 * 6D rotation → rotation matrix by Gram–Schmidt (see the file header). Differentiable.
 * Consumes `x` [..., 6]; returns R [..., 3, 3] with `R[..., i, j]` = component i of column b_j.
 */
export function rot6dToMatrix(x: JArray): JArray {
  if (x.shape[x.ndim - 1] !== 6) throw new Error(`rot6dToMatrix: last axis must be 6, got [${x.shape}]`);
  const [a1, a2] = np.split(x, 2, -1) as [JArray, JArray]; // 2 × [..., 3]
  const b1 = normalizeLast(a1); // [..., 3]
  const proj = np.sum(b1.ref.mul(a2.ref), -1, { keepdims: true }); // [..., 1]  b1·a2
  const b2 = normalizeLast(a2.sub(b1.ref.mul(proj))); // [..., 3]
  const b3 = np.cross(b1.ref, b2.ref, { axis: -1 }); // [..., 3]
  return np.stack([b1, b2, b3], -1); // [..., 3, 3]; the b's are columns
}

/** Rotation matrix → 6D: its first two columns `[R00, R10, R20, R01, R11, R21]`. Consumes `r` [..., 3, 3]; returns [..., 6]. */
export function matrixToRot6d(r: JArray): JArray {
  const lead = r.shape.slice(0, -2);
  const n = lead.reduce((p, d) => p * d, 1);
  return r
    .reshape([n, 3, 3]) // [n, 3, 3]
    .transpose([0, 2, 1]) // [n, col, row]
    .reshape([n, 9]) // [n, 9]: columns one after another
    .slice([], [0, 6]) // [n, 6]: the first two columns
    .reshape([...lead, 6]); // [..., 6]
}

/** `rot6dToMatrix` on plain numbers: 6 numbers → row-major 3×3. */
export function rot6dToMat3(x: readonly number[]): Mat3 {
  const a1: Vec3 = [x[0]!, x[1]!, x[2]!];
  const a2: Vec3 = [x[3]!, x[4]!, x[5]!];
  const b1 = normalize3(a1);
  const b2 = normalize3(sub3(a2, scale3(b1, dot3(b1, a2))));
  return mat3FromColumns(b1, b2, cross3(b1, b2));
}

/** Rotation matrix (row-major 3×3) → unit quaternion `[w, x, y, z]` with w ≥ 0 (Shepperd's method: stable near 180°). */
export function quatFromMat3(m: readonly number[]): Quat {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m as [number, number, number, number, number, number, number, number, number];
  const tr = m00 + m11 + m22;
  let q: Quat;
  if (tr > 0) {
    const s = 2 * Math.sqrt(tr + 1); // s = 4w
    q = [s / 4, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s];
  } else if (m00 > m11 && m00 > m22) {
    const s = 2 * Math.sqrt(1 + m00 - m11 - m22); // s = 4x
    q = [(m21 - m12) / s, s / 4, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 > m22) {
    const s = 2 * Math.sqrt(1 + m11 - m00 - m22); // s = 4y
    q = [(m02 - m20) / s, (m01 + m10) / s, s / 4, (m12 + m21) / s];
  } else {
    const s = 2 * Math.sqrt(1 + m22 - m00 - m11); // s = 4z
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, s / 4];
  }
  return canonicalQuat(q);
}

/** Unit quaternion `[w, x, y, z]` (normalised first) → rotation matrix, row-major 3×3. */
export function mat3FromQuat(q: Readonly<Quat>): Mat3 {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  const [w, x, y, z] = [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/**
 * Spherical linear interpolation from `a` (s = 0) to `b` (s = 1) along the shorter arc (b is negated when
 * a·b < 0). Nearly equal quaternions fall back to normalised linear interpolation. Returns a unit quaternion, w ≥ 0.
 */
export function quatSlerp(a: Readonly<Quat>, b: Readonly<Quat>, s: number): Quat {
  let d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  const sign = d < 0 ? -1 : 1;
  d *= sign;
  let wa: number;
  let wb: number;
  if (d > 1 - 1e-12) {
    wa = 1 - s;
    wb = s;
  } else {
    const theta = Math.acos(d);
    wa = Math.sin((1 - s) * theta) / Math.sin(theta);
    wb = Math.sin(s * theta) / Math.sin(theta);
  }
  const q = [0, 1, 2, 3].map((i) => wa * a[i]! + wb * sign * b[i]!) as Quat;
  const n = Math.hypot(...q);
  return canonicalQuat([q[0] / n, q[1] / n, q[2] / n, q[3] / n]);
}

/** Rotation by `angleRad` about `axis` (normalised; right-hand rule), as a row-major 3×3 (Rodrigues' formula). */
export function axisAngleToMat3(axis: Readonly<Vec3>, angleRad: number): Mat3 {
  const [x, y, z] = normalize3(axis);
  const c = Math.cos(angleRad);
  const s = Math.sin(angleRad);
  const k = 1 - c;
  return [
    c + x * x * k, x * y * k - z * s, x * z * k + y * s,
    y * x * k + z * s, c + y * y * k, y * z * k - x * s,
    z * x * k - y * s, z * y * k + x * s, c + z * z * k,
  ];
}

/**
 * Geodesic angle between rotations `a` and `b` (row-major 3×3), in degrees, in [0, 180]: the rotation angle of
 * M = aᵀb, from cos θ = (tr M − 1)/2 and sin θ = |vee(M − Mᵀ)|/2 through atan2. atan2 needs no clamping (acos of
 * a slightly-out-of-range cosine is NaN) and keeps full precision near 0° where acos loses half the digits.
 */
export function rotationAngleDeg(a: readonly number[], b: readonly number[]): number {
  const m = (i: number, j: number): number => a[i]! * b[j]! + a[3 + i]! * b[3 + j]! + a[6 + i]! * b[6 + j]!; // (aᵀb)_ij
  const cos = (m(0, 0) + m(1, 1) + m(2, 2) - 1) / 2;
  const sin = Math.hypot(m(2, 1) - m(1, 2), m(0, 2) - m(2, 0), m(1, 0) - m(0, 1)) / 2;
  return (Math.atan2(sin, cos) * 180) / Math.PI;
}

/** q or −q, whichever has w ≥ 0 (both are the same rotation). */
function canonicalQuat(q: Quat): Quat {
  return q[0] < 0 ? [-q[0], -q[1], -q[2], -q[3]] : q;
}
