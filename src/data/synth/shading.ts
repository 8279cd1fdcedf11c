/**
 * Shading of ray hits for the synthetic ray caster (raycast.ts): surface coordinates and normals of each primitive,
 * the texture lookup (textures.ts), Lambertian shading with one directional light plus ambient, analytic blob
 * shadows on the floor (darkening by the horizontal distance to each object's footprint), the street's sky gradient
 * and distance haze. Packed layouts are defined here and filled by raycast.ts; every function writes its colour into
 * a caller's `out` array and allocates nothing.
 */
import { evalTexture } from "./textures.ts";

/** Packed primitive: numbers per object and the offset of each field. */
export const PRIM_STRIDE = 19;
export const P_SHAPE = 0; // 0 box, 1 sphere, 2 vertical cylinder, 3 vertical capsule
export const P_CX = 1; // centre x, y, z (world)
export const P_COS = 4; // cos and sin of the yaw (rotation about the vertical axis)
export const P_SIN = 5;
export const P_HX = 6; // half-extents x, y, z (box) · r (sphere) · r, half-height (cylinder, capsule)
export const P_TEX = 9; // offset of the texture in the packed texture table
export const P_ID = 10; // object id
export const P_LOX = 11; // this frame's ray origin in the object's frame (origin − centre, rotated by −yaw)
export const P_K = 14; // sphere: |origin − centre|² − r²; cylinder, capsule: the same in the horizontal plane
export const P_BX = 15; // this frame's centre − ray origin (world x, y, z), for the screen bounds
export const P_BR = 18; // bounding-sphere radius
export const SHAPE_CODE = { box: 0, sphere: 1, cylinder: 2, capsule: 3 } as const;

/** Packed light: direction towards the light (x, y, z), ambient, diffuse. */
export const L_DIR = 0;
export const L_AMBIENT = 3;
export const L_DIFFUSE = 4;

/** Packed blob shadow: centre x, z, cos, sin, half x, half z (−1: a disc of radius half x), strength, 1/softness. */
export const SHADOW_STRIDE = 8;

/** `out` = albedo · (ambient + diffuse · max(0, n·L)), clamped to 1. */
function lambert(light: Float64Array, nx: number, ny: number, nz: number, out: Float64Array): void {
  const ndl = nx * light[L_DIR]! + ny * light[L_DIR + 1]! + nz * light[L_DIR + 2]!;
  const k = light[L_AMBIENT]! + light[L_DIFFUSE]! * (ndl > 0 ? ndl : 0);
  out[0] = Math.min(1, out[0]! * k);
  out[1] = Math.min(1, out[1]! * k);
  out[2] = Math.min(1, out[2]! * k);
}

/**
 * Shades the hit at distance `t` along the ray (o, d) on packed primitive `b` (offset into `prims`) on `face`
 * (box: the local axis 0–2 it entered through; cylinder: 0 side, 1 top; sphere and capsule: 0).
 */
export function shadePrim(
  prims: Float64Array, b: number, face: number, t: number, dx: number, dy: number, dz: number,
  tex: Float64Array, light: Float64Array, out: Float64Array,
): void {
  const c = prims[b + P_COS]!, s = prims[b + P_SIN]!;
  const ldx = c * dx - s * dz, ldz = s * dx + c * dz; // ray direction in the object's frame
  const lx = prims[b + P_LOX]! + t * ldx, ly = prims[b + P_LOX + 1]! + t * dy, lz = prims[b + P_LOX + 2]! + t * ldz; // hit, object frame
  const hx = prims[b + P_HX]!, hy = prims[b + P_HX + 1]!, hz = prims[b + P_HX + 2]!;
  let nx = 0, ny = 0, nz = 0, u = 0, v = 0;
  switch (prims[b + P_SHAPE]) {
    case 0: // box: the face's outward normal points against the ray
      if (face === 0) { nx = ldx > 0 ? -1 : 1; u = lz + hz; v = ly + hy; }
      else if (face === 1) { ny = dy > 0 ? -1 : 1; u = lx + hx; v = lz + hz; }
      else { nz = ldz > 0 ? -1 : 1; u = lx + hx; v = ly + hy; }
      break;
    case 1: // sphere
      nx = lx / hx; ny = ly / hx; nz = lz / hx;
      u = hx * Math.atan2(lx, lz); v = ly;
      break;
    case 2: // cylinder: side or top cap
      if (face === 0) { nx = lx / hx; nz = lz / hx; u = hx * Math.atan2(lx, lz); v = ly; }
      else { ny = -1; u = lx; v = lz; }
      break;
    default: {
      // capsule: normal from the nearest point of its vertical axis segment
      const ay = ly < -hy ? -hy : ly > hy ? hy : ly;
      nx = lx / hx; ny = (ly - ay) / hx; nz = lz / hx;
      u = hx * Math.atan2(lx, lz); v = ly;
    }
  }
  evalTexture(tex, prims[b + P_TEX]!, u, v, out);
  lambert(light, c * nx + s * nz, ny, -s * nx + c * nz, out); // normal back to the world frame
}

/**
 * Packed environments (raycast.ts): room = [0, min xyz, max xyz, texture offsets of floor, ceiling, wall x0, x1, z0,
 * z1]; street = [1, floorY, halfWidth, depth, ground texture offset, horizon rgb, zenith rgb].
 *
 * Shades a room-environment hit at world point (x, y, z) on `face` (0 floor, 1 ceiling, 2 wall x0, 3 x1,
 * 4 z0, 5 z1). Walls use (horizontal, y) as texture coordinates; floor and ceiling use (x, z).
 */
export function shadeRoom(env: Float64Array, face: number, x: number, y: number, z: number, tex: Float64Array, light: Float64Array, out: Float64Array): void {
  const texBase = env[7 + face]!;
  if (face <= 1) evalTexture(tex, texBase, x, z, out);
  else if (face <= 3) evalTexture(tex, texBase, z, y, out);
  else evalTexture(tex, texBase, x, y, out);
  // Inward normal along the face's axis. The ceiling, facing away from the light, is lit as if its normal pointed
  // half-way up: a stand-in for light bounced off the floor, without which every ceiling is a flat dark grey.
  const n = face === 0 ? -1 : face === 1 ? -0.5 : face === 2 || face === 4 ? 1 : -1;
  if (face <= 1) lambert(light, 0, n, 0, out);
  else if (face <= 3) lambert(light, n, 0, 0, out);
  else lambert(light, 0, 0, n, out);
}

/**
 * Shades a street-environment hit at (x, y, z): `face` 0 ground, 1 building front (|x| = halfWidth), 2 building end
 * (a z face), 3 sky (then (x, y, z) is the ray direction). For faces 1–2, `texBase` is the building's texture and
 * `normal` the sign of the face's normal along x (front) or z (end).
 * Ground and buildings fade towards the horizon colour with distance `t` (haze).
 */
export function shadeStreet(env: Float64Array, face: number, texBase: number, normal: number, x: number, y: number, z: number, t: number, tex: Float64Array, light: Float64Array, out: Float64Array): void {
  if (face === 3) {
    const e = y < 0 ? Math.min(1, -2 * y) : 0; // elevation of the ray (y up is −y)
    for (let k = 0; k < 3; k++) out[k] = env[5 + k]! + e * (env[8 + k]! - env[5 + k]!);
    return;
  }
  if (face === 0) {
    evalTexture(tex, env[4]!, x, z, out);
    lambert(light, 0, -1, 0, out);
  } else if (face === 1) {
    evalTexture(tex, texBase, z, y, out);
    lambert(light, normal, 0, 0, out);
  } else {
    evalTexture(tex, texBase, x, y, out);
    lambert(light, 0, 0, normal, out);
  }
  const haze = t / (t + 120);
  for (let k = 0; k < 3; k++) out[k] = out[k]! + haze * (env[5 + k]! - out[k]!);
}

/**
 * Blob-shadow factor in (0, 1] at floor point (x, z) from the packed shadow records whose bits are set in `bits`
 * (bit i: record i): the product over records
 * of 1 − strength · s(d), with d the horizontal distance outside the record's footprint and s a smoothstep that
 * falls from 1 at the footprint to exactly 0 at the softness radius (so far floor is exactly unshadowed).
 */
export function blobShadow(records: Float64Array, bits: number, x: number, z: number): number {
  let f = 1;
  for (let r = bits; r !== 0; r &= r - 1) {
    const b = (31 - Math.clz32(r & -r)) * SHADOW_STRIDE;
    const rx = x - records[b]!, rz = z - records[b + 1]!;
    const c = records[b + 2]!, s = records[b + 3]!;
    const qx = c * rx - s * rz, qz = s * rx + c * rz; // footprint frame
    const hx = records[b + 4]!, hz = records[b + 5]!;
    let d: number;
    if (hz < 0) d = Math.sqrt(qx * qx + qz * qz) - hx;
    else {
      const ex = (qx < 0 ? -qx : qx) - hx, ez = (qz < 0 ? -qz : qz) - hz;
      d = ex > 0 ? (ez > 0 ? Math.sqrt(ex * ex + ez * ez) : ex) : ez > 0 ? ez : 0;
    }
    const k = 1 - (d > 0 ? d : 0) * records[b + 7]!;
    if (k > 0) f *= 1 - records[b + 6]! * k * k * (3 - 2 * k);
  }
  return f;
}
