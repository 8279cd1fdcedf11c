/**
 * The one camera convention of the project, stated once (docs/METHOD.md §1), and the plain-number `Camera` type.
 *
 * - Axes: OpenCV. In the camera frame +x points right, +y down, +z forward (out of the lens).
 * - Pose: camera-to-world `c2w = [R t; 0 0 0 1]` (4×4, row-major, 16 numbers). The columns of R are the camera's
 *   x, y, z axes in world coordinates and `t` is the camera centre in the world. The network predicts c2w and the
 *   first view of a sample is the canonical frame (`c2w_0 = I`, see `poses.ts`).
 * - Pixels: pixel (x, y) is column x, row y, 0-based; its centre is at (x + 0.5, y + 0.5), so a W-wide image
 *   spans [0, W] and its centre is at W / 2.
 * - Intrinsics: the 4-vector `fxfycxcy`. In **pixels** it maps the camera-frame direction (u, v, 1) to the image
 *   point (fx·u + cx, fy·v + cy). In **normalised** form fx and cx are divided by the width W and fy and cy by the
 *   height H, so it does not depend on the resolution (the model's form: cx = cy = 0.5, fx = fy = f).
 * - Ray through pixel (x, y): `d = normalize(R · [(x + 0.5 − cx)/fx, (y + 0.5 − cy)/fy, 1])`, origin `t`
 *   (`rays.ts`).
 *
 * Reference: wild-rayzer `model/rayzer_official_v3.py` (`get_cam_se3`, `cam_info_to_plucker`).
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";

/** Intrinsics `[fx, fy, cx, cy]`, in pixels or normalised (the name of the variable says which). */
export type Intrinsics = [number, number, number, number];

/**
 * A camera on plain numbers (data generator, ray caster, metrics, viewer). `c2w` is the 4×4 camera-to-world matrix,
 * row-major (16 numbers); `fxfycxcy` is in **pixels** of the image it is used with.
 */
export type Camera = { c2w: number[]; fxfycxcy: Intrinsics };

/** Pixel intrinsics → normalised: fx, cx divided by `w`; fy, cy by `h`. */
export function normalizeIntrinsics(k: Readonly<Intrinsics>, h: number, w: number): Intrinsics {
  return [k[0] / w, k[1] / h, k[2] / w, k[3] / h];
}

/** Normalised intrinsics → pixels: fx, cx multiplied by `w`; fy, cy by `h`. */
export function denormalizeIntrinsics(k: Readonly<Intrinsics>, h: number, w: number): Intrinsics {
  return [k[0] * w, k[1] * h, k[2] * w, k[3] * h];
}

/**
 * `denormalizeIntrinsics` on arrays (differentiable): consumes `k` [..., 4] normalised; returns [..., 4] in pixels.
 */
export function denormalizeIntrinsicsArray(k: JArray, h: number, w: number): JArray {
  return k.mul(np.array(new Float32Array([w, h, w, h]))); // [..., 4]
}

/** Intrinsics in pixels from a horizontal field of view (degrees), principal point at the image centre, square pixels. */
export function intrinsicsFromFov(fovXDeg: number, h: number, w: number): Intrinsics {
  const f = w / 2 / Math.tan((fovXDeg * Math.PI) / 360);
  return [f, f, w / 2, h / 2];
}

/**
 * `count` identity cameras in the model's form, host arrays: c2w [count, 4, 4] = I and normalised intrinsics
 * [count, 4] = [f, f, 0.5, 0.5] (the "are the cameras used?" diagnostic renders from these).
 */
export function identityCameraArrays(count: number, focal: number): { c2w: Float32Array; fxfycxcy: Float32Array } {
  const eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  return {
    c2w: Float32Array.from({ length: count * 16 }, (_, i) => eye[i % 16]!),
    fxfycxcy: Float32Array.from({ length: count * 4 }, (_, i) => [focal, focal, 0.5, 0.5][i % 4]!),
  };
}
