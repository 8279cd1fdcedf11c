/**
 * Poses relative to a canonical view and camera paths. The model's world frame is its first view (docs/METHOD.md §1:
 * `c2w_0 = I`), so ground-truth or predicted poses are compared after mapping every camera by inv(c2w_0):
 * `c2w_i' = inv(c2w_0) · c2w_i` (then c2w_0' = I). Camera paths for videos interpolate between key cameras the way
 * wild-rayzer's `get_interpolated_poses_many` does (`utils/camera_utils.py`, docs/METHOD.md §10): quaternion slerp for the
 * rotation, linear for the centre and the intrinsics.
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import type { Camera, Intrinsics } from "./cameras.ts";
import { lerp3, mat4FromRt, mat4Mul, mat4Rotation, mat4Translation, rigidInverse, type Mat4 } from "./mat4.ts";
import { mat3FromQuat, quatFromMat3, quatSlerp } from "./rotations.ts";

/** Every pose relative to the first: `inv(c2w_0) · c2w_i` on plain row-major 4×4 matrices (rigid c2w assumed). */
export function relativeToFirst(c2ws: readonly (readonly number[])[]): Mat4[] {
  if (c2ws.length === 0) return [];
  const inv0 = rigidInverse(c2ws[0]!);
  return c2ws.map((m) => mat4Mul(inv0, m));
}

/**
 * Inverse of rigid transforms `[R t; 0 1]` → `[Rᵀ −Rᵀt; 0 1]` on arrays (differentiable).
 * Consumes `m` [..., 4, 4]; returns [..., 4, 4].
 */
export function invertRigidArray(m: JArray): JArray {
  const lead = m.shape.slice(0, -2);
  const n = lead.reduce((p, d) => p * d, 1);
  const flat = m.reshape([n, 4, 4]); // [n, 4, 4]
  const r = flat.ref.slice([], [0, 3], [0, 3]); // [n, 3, 3]
  const t = flat.slice([], [0, 3], 3).reshape([n, 3, 1]); // [n, 3, 1]
  const rt = r.ref.transpose([0, 2, 1]); // [n, 3, 3]  Rᵀ
  const tInv = np.sum(r.mul(t), 1).neg().reshape([n, 3, 1]); // [n, 3, 1]  (−Rᵀt)_j = −Σ_i R_ij t_i
  const top = np.concatenate([rt, tInv], 2); // [n, 3, 4]
  const bottom = np.broadcastTo(np.array(new Float32Array([0, 0, 0, 1])).reshape([1, 1, 4]), [n, 1, 4]); // [n, 1, 4]
  return np.concatenate([top, bottom], 1).reshape([...lead, 4, 4]); // [..., 4, 4]
}

/**
 * Every view's pose relative to the sample's first view, on arrays (differentiable).
 * Shapes: b samples, v views. Consumes `c2w` [b, v, 4, 4]; returns [b, v, 4, 4] with view 0 the identity.
 * The product is an elementwise multiply and sum, not `np.matmul`, so no operand relies on matmul broadcasting.
 */
export function relativeToFirstArray(c2w: JArray): JArray {
  const [b, v] = c2w.shape as [number, number, number, number];
  const inv0 = invertRigidArray(c2w.ref.slice([], 0)).reshape([b, 1, 4, 4, 1]); // [b, 1, i, k, 1]
  return np.sum(inv0.mul(c2w.reshape([b, v, 1, 4, 4])), 3); // [b, v, i, j] = Σ_k inv0[i, k] · c2w[k, j]
}

/**
 * The camera a fraction `s` of the way from `a` (s = 0) to `b` (s = 1): rotation by quaternion slerp (shorter
 * arc), centre and intrinsics linearly.
 */
export function interpolateCamera(a: Camera, b: Camera, s: number): Camera {
  const q = quatSlerp(quatFromMat3(mat4Rotation(a.c2w)), quatFromMat3(mat4Rotation(b.c2w)), s);
  const centre = lerp3(mat4Translation(a.c2w), mat4Translation(b.c2w), s);
  const k = a.fxfycxcy.map((ka, i) => ka + s * (b.fxfycxcy[i]! - ka)) as Intrinsics;
  return { c2w: mat4FromRt(mat3FromQuat(q), centre), fxfycxcy: k };
}

/** `count` cameras evenly spaced from `a` to `b`, both included (s = i / (count − 1)); one camera is `a`. */
export function interpolateCameras(a: Camera, b: Camera, count: number): Camera[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`interpolateCameras: count must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, i) => interpolateCamera(a, b, count === 1 ? 0 : i / (count - 1)));
}

/**
 * A video path through key cameras: `stepsPerPair` cameras per consecutive pair (s = 0, 1/steps, …), then the
 * last key, so (keys − 1) · stepsPerPair + 1 cameras that pass through every key once. (wild-rayzer's
 * `get_interpolated_poses_many` includes both ends of every pair and so repeats each interior key.)
 */
export function cameraPath(keys: readonly Camera[], stepsPerPair: number): Camera[] {
  if (!Number.isInteger(stepsPerPair) || stepsPerPair < 1) throw new Error(`cameraPath: stepsPerPair must be a positive integer, got ${stepsPerPair}`);
  const out: Camera[] = [];
  for (let i = 0; i + 1 < keys.length; i++) {
    for (let k = 0; k < stepsPerPair; k++) out.push(interpolateCamera(keys[i]!, keys[i + 1]!, k / stepsPerPair));
  }
  const last = keys[keys.length - 1];
  if (last) out.push({ c2w: [...last.c2w], fxfycxcy: [...last.fxfycxcy] });
  return out;
}
