/**
 * The path a person drags on the viewer's look-around pad → cameras. A pad point (u, v) in [−1, 1]² moves the first
 * input camera by (u, v) × radius along its own x and y axes and turns it back toward its optical axis (yaw −3°·u,
 * pitch +3°·v), the radius being a quarter of the input baseline (at least 0.02): the same family as
 * src/pipeline/novelViews.ts's orbit, which is the pad's unit circle.
 */
import type { Camera, Intrinsics } from "../geometry/cameras.ts";
import { mat3Mul, mat4FromRt, mat4Mul, mat4Translation, norm3, rigidInverse } from "../geometry/mat4.ts";
import { axisAngleToMat3 } from "../geometry/rotations.ts";

export type PadPoint = [number, number];

const TILT = (3 * Math.PI) / 180;

/** The camera at pad point `p` around camera `a`, sized by the baseline from `a` to `b`. */
export function padCamera(a: Camera, b: Camera, p: PadPoint): Camera {
  const baseline = norm3(mat4Translation(mat4Mul(rigidInverse(a.c2w), b.c2w)));
  const radius = Math.max(0.02, baseline / 4);
  const [u, v] = p;
  const rot = mat4FromRt(mat3Mul(axisAngleToMat3([0, 1, 0], -TILT * u), axisAngleToMat3([1, 0, 0], TILT * v)), [radius * u, radius * v, 0]);
  return { c2w: mat4Mul(a.c2w, rot), fxfycxcy: [...a.fxfycxcy] as Intrinsics };
}

/** `n` points evenly spaced by arc length along the polyline `stroke` (both ends included). */
export function resampleStroke(stroke: readonly PadPoint[], n: number): PadPoint[] {
  if (stroke.length === 0) throw new Error("resampleStroke: empty stroke");
  const cum = [0];
  for (let i = 1; i < stroke.length; i++) cum.push(cum[i - 1]! + Math.hypot(stroke[i]![0] - stroke[i - 1]![0], stroke[i]![1] - stroke[i - 1]![1]));
  const total = cum[cum.length - 1]!;
  if (total === 0 || n === 1) return Array.from({ length: n }, () => [...stroke[0]!] as PadPoint);
  const out: PadPoint[] = [];
  let seg = 0;
  for (let k = 0; k < n; k++) {
    const s = (k * total) / (n - 1);
    while (seg < stroke.length - 2 && cum[seg + 1]! < s) seg++;
    const len = cum[seg + 1]! - cum[seg]!;
    const t = len > 0 ? Math.min(1, Math.max(0, (s - cum[seg]!) / len)) : 0;
    const [p, q] = [stroke[seg]!, stroke[seg + 1]!];
    out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
  }
  return out;
}

/** `n` cameras along a dragged pad stroke. */
export function dragPath(a: Camera, b: Camera, stroke: readonly PadPoint[], n: number): Camera[] {
  return resampleStroke(stroke, n).map((p) => padCamera(a, b, p));
}
