/**
 * Per-pixel rays in Plücker coordinates, the camera encoding every RayZer transformer reads (docs/METHOD.md §1, §2.6): for
 * pixel (x, y) of a camera with c2w = [R t] and pixel intrinsics (fx, fy, cx, cy),
 *   d = normalize(R · [(x + 0.5 − cx)/fx, (y + 0.5 − cy)/fy, 1]),  o = t,  plücker = [o × d (moment, 3), d (3)].
 * The moment does not depend on where along the ray o sits (p × d = o × d for every p on it).
 * `pluckerRays` works on batched arrays and is differentiable in c2w and the intrinsics (the camera estimator's
 * poses are trained through it); `pixelRay` is the same ray on plain numbers for the ray caster.
 * Reference: wild-rayzer `model/rayzer_official_v3.py` (`cam_info_to_plucker`).
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import type { Camera } from "./cameras.ts";
import { normalize3, transformDir, mat4Translation, type Vec3 } from "./mat4.ts";

/**
 * Plücker rays for every pixel of every view.
 * Shapes: lead = [b] or [b, v] (any leading axes), h w pixels, n = prod(lead).
 * Consumes `c2w` [...lead, 4, 4] and `fxfycxcy` [...lead, 4] in **pixels** of an h×w image (the model's normalised
 * intrinsics go through `denormalizeIntrinsicsArray` first); returns [...lead, 6, h, w] with channels
 * [moment (3), direction (3)].
 *
 * Written with elementwise broadcasting only (no matmul), which sidesteps the jax-js 0.1.25 2-D @ N-D matmul bug and
 * is cheap for a 3×3 rotation.
 */
export function pluckerRays(c2w: JArray, fxfycxcy: JArray, h: number, w: number): JArray {
  const lead = c2w.shape.slice(0, -2);
  const kLead = fxfycxcy.shape.slice(0, -1);
  if (c2w.shape.slice(-2).join() !== "4,4" || fxfycxcy.shape[fxfycxcy.ndim - 1] !== 4 || lead.join() !== kLead.join()) {
    throw new Error(`pluckerRays: expected c2w [..., 4, 4] and fxfycxcy [..., 4] with the same leading axes, got [${c2w.shape}] and [${fxfycxcy.shape}]`);
  }
  const n = lead.reduce((p, d) => p * d, 1);
  const m = c2w.reshape([n, 4, 4]); // [n, 4, 4]
  const k = fxfycxcy.reshape([n, 4, 1, 1]); // [n, 4, 1, 1]
  const [fx, fy, cx, cy] = np.split(k, 4, 1) as [JArray, JArray, JArray, JArray]; // 4 × [n, 1, 1, 1]
  const px = np.arange(w).astype(np.float32).add(0.5).reshape([1, 1, 1, w]); // [1, 1, 1, w] pixel-centre x
  const py = np.arange(h).astype(np.float32).add(0.5).reshape([1, 1, h, 1]); // [1, 1, h, 1] pixel-centre y
  const u = px.sub(cx).div(fx); // [n, 1, 1, w]  camera-frame x / z
  const v = py.sub(cy).div(fy); // [n, 1, h, 1]  camera-frame y / z
  const r0 = m.ref.slice([], [0, 3], 0).reshape([n, 3, 1, 1]); // [n, 3, 1, 1]  column 0 of R
  const r1 = m.ref.slice([], [0, 3], 1).reshape([n, 3, 1, 1]); // [n, 3, 1, 1]  column 1 of R
  const r2 = m.ref.slice([], [0, 3], 2).reshape([n, 3, 1, 1]); // [n, 3, 1, 1]  column 2 of R
  const o = m.slice([], [0, 3], 3).reshape([n, 3, 1, 1]); // [n, 3, 1, 1]  camera centre t
  const dRaw = r0.mul(u).add(r1.mul(v)).add(r2); // [n, 3, h, w]  R · (u, v, 1)
  const norm = np.sqrt(np.sum(np.square(dRaw.ref), 1, { keepdims: true })); // [n, 1, h, w]
  const d = dRaw.div(norm); // [n, 3, h, w]  (never zero: the z component before rotation is 1)
  const moment = np.cross(np.broadcastTo(o, [n, 3, h, w]), d.ref, { axis: 1 }); // [n, 3, h, w]  o × d
  return np.concatenate([moment, d], 1).reshape([...lead, 6, h, w]); // [...lead, 6, h, w]
}

/**
 * The ray through pixel (x, y) (column, row; 0-based) of `camera` on plain numbers: origin = camera centre,
 * unit direction in the world. The ray passes through the pixel's centre (x + 0.5, y + 0.5); fractional x, y
 * offset it for sub-pixel sampling (x = −0.5 is the image's left edge).
 */
export function pixelRay(camera: Camera, x: number, y: number): { origin: Vec3; dir: Vec3 } {
  const [fx, fy, cx, cy] = camera.fxfycxcy;
  const dCam: Vec3 = [(x + 0.5 - cx) / fx, (y + 0.5 - cy) / fy, 1];
  return { origin: mat4Translation(camera.c2w), dir: normalize3(transformDir(camera.c2w, dCam)) };
}
