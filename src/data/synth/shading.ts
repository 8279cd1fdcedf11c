/**
 * Shading of ray hits for the synthetic ray caster (raycast.ts): surface coordinates and normals of each primitive,
 * the texture lookup (textures.ts), Lambertian shading with one directional light plus ambient, analytic blob
 * shadows on the floor (darkening by the horizontal distance to each object's footprint), the street's sky gradient
 * and distance haze. The ray and hit distance come in through `REG` (layout.ts); every function writes its colour
 * into the caller's `out` array and allocates nothing.
 */
import {
  L_AMBIENT, L_DIFFUSE, L_DIR, P_COS, P_HX, P_LOX, P_SHAPE, P_SIN, P_TEX, R_DX, R_OX, R_SHADOW, R_T, REG, SHADOW_STRIDE,
} from "./layout.ts";
import { evalTexture } from "./textures.ts";

/** `out` = albedo · (ambient + diffuse · max(0, n·L)), clamped to 1. */
function lambert(light: Float64Array, nx: number, ny: number, nz: number, out: Float64Array): void {
  const ndl = nx * light[L_DIR]! + ny * light[L_DIR + 1]! + nz * light[L_DIR + 2]!;
  const k = light[L_AMBIENT]! + light[L_DIFFUSE]! * (ndl > 0 ? ndl : 0);
  out[0] = Math.min(1, out[0]! * k);
  out[1] = Math.min(1, out[1]! * k);
  out[2] = Math.min(1, out[2]! * k);
}

/**
 * Shades the hit at ray parameter REG[R_T] along the ray REG[R_DX..] on packed primitive `b` (offset into `prims`) on
 * `face` (box: the local axis 0–2 it entered through; cylinder: 0 side, 1 top; sphere and capsule: 0).
 */
export function shadePrim(prims: Float64Array, b: number, face: number, tex: Float64Array, light: Float64Array, out: Float64Array): void {
  const t = REG[R_T]!, dx = REG[R_DX]!, dy = REG[R_DX + 1]!, dz = REG[R_DX + 2]!;
  const c = prims[b + P_COS]!, s = prims[b + P_SIN]!;
  const ldx = c * dx - s * dz, ldz = s * dx + c * dz; // ray direction in the object's frame
  const lx = prims[b + P_LOX]! + t * ldx, ly = prims[b + P_LOX + 1]! + t * dy, lz = prims[b + P_LOX + 2]! + t * ldz; // hit, object frame
  const hx = prims[b + P_HX]!, hy = prims[b + P_HX + 1]!, hz = prims[b + P_HX + 2]!;
  let nx = 0, ny = 0, nz = 0, u = 0, v = ly;
  const round = tex[prims[b + P_TEX]!] !== 0; // the angle around a round object only matters for a patterned texture
  switch (prims[b + P_SHAPE]) {
    case 0: // box: the face's outward normal points against the ray; texture origin at a corner
      if (face === 0) { nx = ldx > 0 ? -1 : 1; u = lz + hz; v = ly + hy; }
      else if (face === 1) { ny = dy > 0 ? -1 : 1; u = lx + hx; v = lz + hz; }
      else { nz = ldz > 0 ? -1 : 1; u = lx + hx; v = ly + hy; }
      break;
    case 1: // sphere
      nx = lx / hx; ny = ly / hx; nz = lz / hx;
      if (round) u = hx * Math.atan2(lx, lz);
      break;
    case 2: // cylinder: side or top cap
      if (face === 0) { nx = lx / hx; nz = lz / hx; if (round) u = hx * Math.atan2(lx, lz); }
      else { ny = -1; u = lx; v = lz; }
      break;
    default: {
      // capsule: normal from the nearest point of its vertical axis segment
      const ay = ly < -hy ? -hy : ly > hy ? hy : ly;
      nx = lx / hx; ny = (ly - ay) / hx; nz = lz / hx;
      if (round) u = hx * Math.atan2(lx, lz);
    }
  }
  out[0] = u;
  out[1] = v;
  evalTexture(tex, prims[b + P_TEX]!, out);
  lambert(light, c * nx + s * nz, ny, -s * nx + c * nz, out); // normal back to the world frame
}

/**
 * Shades a room hit at REG[R_T] on `face` (0 floor, 1 ceiling, 2 wall x0, 3 x1, 4 z0, 5 z1). Walls use
 * (horizontal, y) as texture coordinates; floor and ceiling use (x, z).
 */
export function shadeRoom(env: Float64Array, face: number, tex: Float64Array, light: Float64Array, out: Float64Array): void {
  const t = REG[R_T]!;
  const x = REG[R_OX]! + t * REG[R_DX]!, y = REG[R_OX + 1]! + t * REG[R_DX + 1]!, z = REG[R_OX + 2]! + t * REG[R_DX + 2]!;
  out[0] = face <= 1 ? x : face <= 3 ? z : x;
  out[1] = face <= 1 ? z : y;
  evalTexture(tex, env[7 + face]!, out);
  // Inward normal along the face's axis. The ceiling, facing away from the light, is lit as if its normal pointed
  // half-way up: a stand-in for light bounced off the floor, without which every ceiling is a flat dark grey.
  const n = face === 0 ? -1 : face === 1 ? -0.5 : face === 2 || face === 4 ? 1 : -1;
  if (face <= 1) lambert(light, 0, n, 0, out);
  else if (face <= 3) lambert(light, n, 0, 0, out);
  else lambert(light, 0, 0, n, out);
}

/**
 * Shades a street hit at REG[R_T]: `face` 0 ground, 1 building front (|x| = halfWidth), 2 building end (a z face),
 * 3 sky. For faces 1–2, `texBase` is the building's texture and `normal` the sign of the face's normal along x
 * (front) or z (end). Ground and buildings fade towards the horizon colour with depth (haze).
 */
export function shadeStreet(env: Float64Array, face: number, texBase: number, normal: number, tex: Float64Array, light: Float64Array, out: Float64Array): void {
  const t = REG[R_T]!, dy = REG[R_DX + 1]!;
  if (face === 3) {
    const len = Math.sqrt(REG[R_DX]! ** 2 + dy * dy + REG[R_DX + 2]! ** 2);
    const e = dy < 0 ? Math.min(1, (-2 * dy) / len) : 0; // elevation of the ray (up is −y)
    for (let k = 0; k < 3; k++) out[k] = env[5 + k]! + e * (env[8 + k]! - env[5 + k]!);
    return;
  }
  const x = REG[R_OX]! + t * REG[R_DX]!, y = REG[R_OX + 1]! + t * dy, z = REG[R_OX + 2]! + t * REG[R_DX + 2]!;
  out[0] = face === 1 ? z : x;
  out[1] = face === 0 ? z : y;
  evalTexture(tex, face === 0 ? env[4]! : texBase, out);
  if (face === 0) lambert(light, 0, -1, 0, out);
  else if (face === 1) lambert(light, normal, 0, 0, out);
  else lambert(light, 0, 0, normal, out);
  const haze = t / (t + 120);
  for (let k = 0; k < 3; k++) out[k] = out[k]! + haze * (env[5 + k]! - out[k]!);
}

/**
 * Blob-shadow factor in (0, 1] at the floor hit REG[R_T] from the packed shadow records whose bits are set in `bits`
 * (bit i: record i), written to REG[R_SHADOW]: the product over records of 1 − strength · s(d), with d the
 * horizontal distance outside the record's footprint and s a smoothstep that falls from 1 at the footprint to
 * exactly 0 at the softness radius (so far floor is exactly unshadowed).
 */
export function blobShadow(records: Float64Array, bits: number): void {
  const t = REG[R_T]!;
  const x = REG[R_OX]! + t * REG[R_DX]!, z = REG[R_OX + 2]! + t * REG[R_DX + 2]!;
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
  REG[R_SHADOW] = f;
}
