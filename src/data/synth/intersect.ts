/**
 * Ray intersections of the synthetic ray caster (raycast.ts): the packed primitives (yawed boxes, spheres, vertical
 * cylinders and capsules; layout.ts) and the street set (ground, rows of building boxes, sky). The ray comes in
 * through `REG` (origin R_OX.., direction R_DX.. of any length: distances are ray parameters t, the hit being
 * o + t·d); results go out through `REG` and `ENV_HIT`, so no call passes or returns a double (layout.ts).
 */
import {
  E_FACE, E_NORMAL, E_TEX, ENV_HIT, EPS, P_BX, P_COS, P_HX, P_K, P_LOX, P_SHAPE, P_SIN, R_DX, R_HIT, R_OX, R_T, REG, SKY_DISTANCE,
} from "./layout.ts";

/**
 * Nearest hit of packed primitive `b` (offset into `prims`) along the current ray, if nearer than REG[R_T]: writes
 * its distance to REG[R_HIT] and returns the face + 1 (box: local axis 0–2 entered through; cylinder: 0 side,
 * 1 top; sphere, capsule: 0), or returns 0 for a miss. The camera is never inside an object.
 */
export function intersect(prims: Float64Array, b: number): number {
  const dx = REG[R_DX]!, dy = REG[R_DX + 1]!, dz = REG[R_DX + 2]!, tMax = REG[R_T]!;
  const shape = prims[b + P_SHAPE]!;
  if (shape === 1) {
    // sphere: a t² + 2 bq t + K = 0 (rotation-invariant: world-frame centre − origin, and K = |origin − centre|² − r²)
    const a = dx * dx + dy * dy + dz * dz;
    const bq = -(prims[b + P_BX]! * dx + prims[b + P_BX + 1]! * dy + prims[b + P_BX + 2]! * dz);
    const disc = bq * bq - a * prims[b + P_K]!;
    if (disc < 0) return 0;
    const t = (-bq - Math.sqrt(disc)) / a;
    if (t <= EPS || t >= tMax) return 0;
    REG[R_HIT] = t;
    return 1;
  }
  const c = prims[b + P_COS]!, s = prims[b + P_SIN]!;
  const ldx = c * dx - s * dz, ldz = s * dx + c * dz; // direction in the object's frame
  const lox = prims[b + P_LOX]!, loy = prims[b + P_LOX + 1]!, loz = prims[b + P_LOX + 2]!;
  const hx = prims[b + P_HX]!, hy = prims[b + P_HX + 1]!;
  if (shape === 0) {
    // box: slab test in its frame
    const hz = prims[b + P_HX + 2]!;
    let tn = -Infinity, tf = tMax, f = 0;
    let inv = 1 / ldx, t1 = (-hx - lox) * inv, t2 = (hx - lox) * inv;
    if (t1 > t2) { const tmp = t1; t1 = t2; t2 = tmp; }
    if (t1 > tn) tn = t1;
    if (t2 < tf) tf = t2;
    inv = 1 / dy; t1 = (-hy - loy) * inv; t2 = (hy - loy) * inv;
    if (t1 > t2) { const tmp = t1; t1 = t2; t2 = tmp; }
    if (t1 > tn) { tn = t1; f = 1; }
    if (t2 < tf) tf = t2;
    inv = 1 / ldz; t1 = (-hz - loz) * inv; t2 = (hz - loz) * inv;
    if (t1 > t2) { const tmp = t1; t1 = t2; t2 = tmp; }
    if (t1 > tn) { tn = t1; f = 2; }
    if (t2 < tf) tf = t2;
    if (!(tn <= tf) || tn <= EPS) return 0; // !(≤) also rejects NaN from a ray grazing a face
    REG[R_HIT] = tn;
    return f + 1;
  }
  // vertical cylinder or capsule: the side first (its horizontal circle, radius hx, half-height hy)
  const a = ldx * ldx + ldz * ldz;
  if (a > 1e-12 * (a + dy * dy)) {
    const bq = lox * ldx + loz * ldz;
    const disc = bq * bq - a * prims[b + P_K]!;
    if (disc < 0) return 0; // the ray never comes within hx of the axis: misses the caps too
    const t = (-bq - Math.sqrt(disc)) / a;
    const y = loy + t * dy;
    if (t > EPS && y >= -hy && y <= hy) {
      if (t >= tMax) return 0;
      REG[R_HIT] = t;
      return 1;
    }
  }
  if (shape === 2) {
    // cylinder top (y = −hy; y points down), seen from above
    if (loy < -hy && dy > 0) {
      const t = (-hy - loy) / dy;
      const px = lox + t * ldx, pz = loz + t * ldz;
      if (px * px + pz * pz <= hx * hx && t < tMax) {
        REG[R_HIT] = t;
        return 2;
      }
    }
    return 0;
  }
  // capsule caps: spheres of radius hx at y = ∓hy
  const a3 = a + dy * dy;
  let best = tMax;
  for (let k = 0; k < 2; k++) {
    const ry = loy - (k === 0 ? -hy : hy);
    const bq = lox * ldx + ry * dy + loz * ldz;
    const disc = bq * bq - a3 * (lox * lox + ry * ry + loz * loz - hx * hx);
    if (disc >= 0) {
      const t = (-bq - Math.sqrt(disc)) / a3;
      if (t > EPS && t < best) best = t;
    }
  }
  if (best >= tMax) return 0;
  REG[R_HIT] = best;
  return 1;
}

/**
 * Nearest street hit of the current ray: the ground, a building of the row on the side the ray heads to, else the
 * sky at SKY_DISTANCE. Writes the ray parameter to REG[R_HIT] and the face, building texture and normal sign to
 * ENV_HIT. `env` is the packed street, `rowNeg`/`rowPos` the building rows at −x and +x (layout.ts), each sorted by
 * z with disjoint z ranges, so the first building hit in the ray's z order is the nearest.
 */
export function traceStreet(env: Float64Array, rowNeg: Float64Array, rowPos: Float64Array): void {
  const ox = REG[R_OX]!, oy = REG[R_OX + 1]!, oz = REG[R_OX + 2]!, dx = REG[R_DX]!, dy = REG[R_DX + 1]!, dz = REG[R_DX + 2]!;
  let tBest = SKY_DISTANCE;
  ENV_HIT[E_FACE] = 3;
  if (dy > 0) {
    const tg = (env[1]! - oy) / dy;
    if (tg < tBest) { tBest = tg; ENV_HIT[E_FACE] = 0; }
  }
  REG[R_HIT] = tBest;
  if (dx === 0) return;
  const W = env[2]!, D = env[3]!;
  const pos = dx > 0;
  const row = pos ? rowPos : rowNeg;
  const txn = pos ? (W - ox) / dx : (-W - ox) / dx; // the row's x slab
  if (txn >= tBest) return;
  if (dy < 0 && oy + txn * dy < env[pos ? 12 : 11]!) return; // above the tallest roof when it reaches the facades
  const txf = pos ? (W + D - ox) / dx : (-W - D - ox) / dx;
  // only buildings overlapping the z range the ray crosses inside the slab can be hit; visit them in ray order
  const za = oz + txn * dz, zb = oz + (txf < tBest ? txf : tBest) * dz;
  const zLo = za < zb ? za : zb, zHi = za < zb ? zb : za;
  const n = row.length / 4, up = dz >= 0;
  for (let k = 0; k < n; k++) {
    const i = 4 * (up ? k : n - 1 - k);
    if (up ? row[i + 1]! < zLo : row[i]! > zHi) continue; // not reached yet
    if (up ? row[i]! > zHi : row[i + 1]! < zLo) break; // past the ray's z range
    let tzn = -Infinity, tzf = Infinity, nz = 0;
    if (dz > 0) { tzn = (row[i]! - oz) / dz; tzf = (row[i + 1]! - oz) / dz; nz = -1; }
    else if (dz < 0) { tzn = (row[i + 1]! - oz) / dz; tzf = (row[i]! - oz) / dz; nz = 1; }
    const front = txn >= tzn;
    const tn = front ? txn : tzn;
    let tf = txf < tzf ? txf : tzf;
    if (dy < 0) { const ty = (row[i + 2]! - oy) / dy; if (ty < tf) tf = ty; } // leaves through the roof
    if (tn < tf && tn > EPS && tn < tBest) {
      REG[R_HIT] = tn;
      ENV_HIT[E_FACE] = front ? 1 : 2;
      ENV_HIT[E_TEX] = row[i + 3]!;
      ENV_HIT[E_NORMAL] = front ? (pos ? -1 : 1) : nz; // the facade faces the street
      return;
    }
  }
}
