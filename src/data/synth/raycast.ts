/**
 * The ray caster of the synthetic scenes: packs a `SceneSpec` into flat Float64Arrays once (`packScene`), then
 * renders one frame at a time (`renderFrame`). For every sub-pixel sample of a jittered n × n grid it casts the
 * camera ray, finds the nearest static hit (room or street, static objects) and the nearest mover in front of it,
 * and so produces in one pass the observed image, the clean static image (movers and their shadows removed), the
 * motion mask, z-depth, a centre-sample object-id map and a "mover touched" map. Rays follow cameras.ts / rays.ts
 * (`pixelRay`): image point (x + 0.5, y + 0.5) for pixel (x, y), d = normalize(R · [(X − cx)/fx, (Y − cy)/fy, 1]).
 *
 * Speed: the hot loop allocates nothing and calls only small monomorphic functions on numbers; per frame it
 * precomputes the rotation, each object's ray origin in its own frame and the movers' poses.
 */
import type { Camera } from "../../geometry/cameras.ts";
import { mat4Translation, rigidInverse, transformPoint } from "../../geometry/mat4.ts";
import { makeRng } from "../../engine/rng.ts";
import { moverPose } from "./motion.ts";
import type { SceneSpec } from "./sceneSpec.ts";
import { blobShadow, P_BR, P_BX, P_COS, P_HX, P_ID, P_K, P_LOX, P_SHAPE, P_SIN, P_TEX, PRIM_STRIDE, SHADOW_STRIDE, SHAPE_CODE, shadePrim, shadeRoom, shadeStreet } from "./shading.ts";
import { packTextures, TEXTURE_STRIDE } from "./textures.ts";

/** Rays that hit nothing in the street see the sky at this distance (m); depth there is this far. */
export const SKY_DISTANCE = 500;
const EPS = 1e-6;

export type PackedScene = {
  spec: SceneSpec;
  tex: Float64Array;
  /** Room or street, see shading.ts. */
  env: Float64Array;
  /** Street buildings on the −x and +x side: [zMin, zMax, roof y, texture offset] each. */
  rowNeg: Float64Array;
  rowPos: Float64Array;
  /** Static objects, then movers (their poses are rewritten per frame). */
  prims: Float64Array;
  /** Blob shadows: static objects, then movers. */
  shadows: Float64Array;
  light: Float64Array;
  /** Sub-pixel jitter in [0, 1)², `JITTER_PAIRS` pairs, and the pair each frame starts at. */
  jitter: Float64Array;
  jitterStart: Int32Array;
};

/** Length of the jitter table: a prime, so its period never lines up with image rows. */
const JITTER_PAIRS = 4099;

/** What one frame's render returns (all [h, w] or [3, h, w], row-major). */
export type RenderedFrame = {
  image: Float32Array;
  static: Float32Array;
  /** 1 where movers cover at least half of the pixel's samples. */
  mask: Uint8Array;
  /** Mean z-depth of the observed surface over the samples (m). */
  depth: Float32Array;
  /** Id of the object seen by the centre sample of the grid (the pixel centre when n = 1); −1 for the set. */
  ids: Int16Array;
  /** 1 where any sample saw a mover or a mover's shadow: the only pixels where image and static may differ. */
  touched: Uint8Array;
};

export type RenderOptions = { samplesPerPixel: number; moverShadows: boolean };

/** Packs the static parts of `spec`; movers are filled in per frame by `renderFrame`. */
export function packScene(spec: SceneSpec): PackedScene {
  const tex = packTextures(spec.textures);
  const S = TEXTURE_STRIDE;
  const e = spec.env;
  const env =
    e.kind === "room"
      ? Float64Array.from([0, ...e.min, ...e.max, ...[e.textures.floor, e.textures.ceiling, e.textures.wallXMin, e.textures.wallXMax, e.textures.wallZMin, e.textures.wallZMax].map((i) => i * S)])
      : Float64Array.from([1, spec.floorY, e.halfWidth, e.depth, e.ground * S, ...e.skyHorizon, ...e.skyZenith]);
  const row = (side: number) =>
    Float64Array.from(e.kind === "room" ? [] : e.buildings.filter((b) => b.side === side).flatMap((b) => [b.zMin, b.zMax, spec.floorY - b.height, b.texture * S]));
  const n = spec.statics.length + spec.movers.length;
  if (n > 30) throw new Error(`packScene: at most 30 objects (per-pixel bit masks), got ${n}`);
  const packed: PackedScene = {
    spec,
    tex,
    env,
    rowNeg: row(-1),
    rowPos: row(1),
    prims: new Float64Array(n * PRIM_STRIDE),
    shadows: new Float64Array(n * SHADOW_STRIDE),
    light: Float64Array.from([...spec.light.dir, spec.light.ambient, spec.light.diffuse]),
    jitter: new Float64Array(2 * JITTER_PAIRS),
    jitterStart: new Int32Array(spec.cameras.length),
  };
  const rng = makeRng(spec.jitterSeed);
  for (let i = 0; i < packed.jitter.length; i++) packed.jitter[i] = rng.next();
  for (let i = 0; i < packed.jitterStart.length; i++) packed.jitterStart[i] = rng.int(JITTER_PAIRS);
  spec.statics.forEach((o, i) => setObject(packed, i, SHAPE_CODE[o.shape], o.centre, o.yaw, o.half, o.texture, o.id));
  return packed;
}

/** Writes object `i`'s packed primitive and blob-shadow record. */
function setObject(p: PackedScene, i: number, shape: number, centre: readonly number[], yaw: number, half: readonly number[], texture: number, id: number): void {
  const b = i * PRIM_STRIDE;
  const { prims, spec } = p;
  prims[b + P_SHAPE] = shape;
  prims.set(centre, b + 1);
  prims[b + P_COS] = Math.cos(yaw);
  prims[b + P_SIN] = Math.sin(yaw);
  prims.set(half, b + P_HX);
  prims[b + P_TEX] = texture * TEXTURE_STRIDE;
  prims[b + P_ID] = id;
  const [h0, h1, h2] = [half[0]!, half[1]!, half[2]!];
  prims[b + P_BR] = shape === SHAPE_CODE.box ? Math.hypot(h0, h1, h2) : shape === SHAPE_CODE.sphere ? h0 : shape === SHAPE_CODE.capsule ? h0 + h1 : Math.hypot(h0, h1);
  // Blob shadow: under the object, shifted away from the light by half its height, softer and fainter when it
  // is off the floor (a hopping ball).
  const L = spec.light.dir;
  const bottom = centre[1]! + (shape === SHAPE_CODE.capsule ? half[1]! + half[0]! : shape === SHAPE_CODE.sphere ? half[0]! : half[1]!);
  const gap = Math.max(0, spec.floorY - bottom); // m above the floor
  const lift = spec.floorY - centre[1]!; // centre height above the floor
  let [sx, sz] = [(-L[0] * lift) / -L[1], (-L[2] * lift) / -L[1]];
  const sl = Math.hypot(sx, sz);
  if (sl > 0.6) [sx, sz] = [(sx * 0.6) / sl, (sz * 0.6) / sl];
  const box = shape === SHAPE_CODE.box;
  const foot = box ? Math.hypot(half[0]!, half[2]!) : half[0]!;
  const soft = 0.12 + 0.4 * foot + 0.3 * gap;
  const record = [centre[0]! + sx, centre[2]! + sz, Math.cos(yaw), Math.sin(yaw), half[0]!, box ? half[2]! : -1, spec.light.shadow / (1 + 1.5 * gap), 1 / soft];
  p.shadows.set(record, i * SHADOW_STRIDE);
}

// Side results of the last hit, in a typed array (cheaper than module-level `let`s in the hot loop):
const HIT = new Float64Array(4);
const HIT_FACE = 0; // face of the last `intersect` hit
const ENV_FACE = 1; // face of the last environment hit …
const ENV_TEX = 2; // … its building texture offset (street) …
const ENV_NORMAL = 3; // … and the sign of that building face's normal

/** Distance to packed primitive `b` along the unit ray, or Infinity when it misses or is not nearer than `tMax`. */
function intersect(prims: Float64Array, b: number, dx: number, dy: number, dz: number, tMax: number): number {
  const c = prims[b + P_COS]!, s = prims[b + P_SIN]!;
  const ldx = c * dx - s * dz, ldz = s * dx + c * dz;
  const lox = prims[b + P_LOX]!, loy = prims[b + P_LOX + 1]!, loz = prims[b + P_LOX + 2]!;
  const hx = prims[b + P_HX]!, hy = prims[b + P_HX + 1]!;
  const shape = prims[b + P_SHAPE]!;
  if (shape === 0) {
    // box: slab test in its frame; the camera is never inside one
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
    if (!(tn <= tf) || tn <= EPS) return Infinity; // !(≤) also rejects NaN from a ray grazing a face
    HIT[HIT_FACE] = f;
    return tn;
  }
  if (shape === 1) {
    // sphere
    const bq = lox * ldx + loy * dy + loz * ldz;
    const disc = bq * bq - prims[b + P_K]!;
    if (disc < 0) return Infinity;
    const t = -bq - Math.sqrt(disc);
    if (t <= EPS || t >= tMax) return Infinity;
    HIT[HIT_FACE] = 0;
    return t;
  }
  // vertical cylinder or capsule: the side first (its horizontal circle, radius hx, half-height hy)
  const a = ldx * ldx + ldz * ldz;
  if (a > 1e-12) {
    const bq = lox * ldx + loz * ldz;
    const disc = bq * bq - a * prims[b + P_K]!;
    if (disc < 0) return Infinity; // the ray never comes within hx of the axis: misses caps too
    const t = (-bq - Math.sqrt(disc)) / a;
    const y = loy + t * dy;
    if (t > EPS && y >= -hy && y <= hy) {
      if (t >= tMax) return Infinity;
      HIT[HIT_FACE] = 0;
      return t;
    }
  }
  if (shape === 2) {
    // cylinder top (y = −hy; y points down), seen from above
    if (loy < -hy && dy > 0) {
      const t = (-hy - loy) / dy;
      const px = lox + t * ldx, pz = loz + t * ldz;
      if (px * px + pz * pz <= hx * hx && t < tMax) {
        HIT[HIT_FACE] = 1;
        return t;
      }
    }
    return Infinity;
  }
  // capsule caps: spheres of radius hx at y = ∓hy
  let best = tMax;
  for (let cy = -hy; cy <= hy; cy += 2 * hy) {
    const ry = loy - cy;
    const bq = lox * ldx + ry * dy + loz * ldz;
    const disc = bq * bq - (lox * lox + ry * ry + loz * loz - hx * hx);
    if (disc >= 0) {
      const t = -bq - Math.sqrt(disc);
      if (t > EPS && t < best) best = t;
    }
    if (hy === 0) break;
  }
  if (best >= tMax) return Infinity;
  HIT[HIT_FACE] = 0;
  return best;
}

/** Nearest building of one street row along the ray, given the row's x slab [txn, txf]; returns the new nearest t. */
function traceRow(row: Float64Array, txn: number, txf: number, normalX: number, oy: number, oz: number, dy: number, dz: number, tBest: number): number {
  if (txn >= tBest) return tBest;
  // Only buildings overlapping the z range the ray crosses inside the row's x slab can be hit.
  const za = oz + txn * dz, zb = oz + (txf < tBest ? txf : tBest) * dz;
  const zLo = za < zb ? za : zb, zHi = za < zb ? zb : za;
  for (let i = 0; i < row.length; i += 4) {
    if (row[i + 1]! < zLo || row[i]! > zHi) continue;
    let tzn = -Infinity, tzf = Infinity, nz = 0;
    if (dz > 1e-12) { tzn = (row[i]! - oz) / dz; tzf = (row[i + 1]! - oz) / dz; nz = -1; }
    else if (dz < -1e-12) { tzn = (row[i + 1]! - oz) / dz; tzf = (row[i]! - oz) / dz; nz = 1; }
    else if (oz < row[i]! || oz > row[i + 1]!) continue;
    const front = txn >= tzn;
    const tn = front ? txn : tzn;
    let tf = txf < tzf ? txf : tzf;
    if (dy < 0) { const ty = (row[i + 2]! - oy) / dy; if (ty < tf) tf = ty; } // leaves through the roof
    if (tn < tf && tn > EPS && tn < tBest) {
      tBest = tn;
      HIT[ENV_FACE] = front ? 1 : 2;
      HIT[ENV_TEX] = row[i + 3]!;
      HIT[ENV_NORMAL] = front ? normalX : nz;
    }
  }
  return tBest;
}

/** Nearest environment hit: a room's inside, or the street's ground, buildings and sky. Sets envFace etc. */
function traceEnv(p: PackedScene, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number): number {
  const env = p.env;
  if (env[0] === 0) {
    // from inside the box the ray leaves through exactly one face: the nearest of the three exit planes
    const tx = dx > 0 ? (env[4]! - ox) / dx : dx < 0 ? (env[1]! - ox) / dx : Infinity;
    const ty = dy > 0 ? (env[5]! - oy) / dy : dy < 0 ? (env[2]! - oy) / dy : Infinity;
    const tz = dz > 0 ? (env[6]! - oz) / dz : dz < 0 ? (env[3]! - oz) / dz : Infinity;
    if (ty <= tx && ty <= tz) { HIT[ENV_FACE] = dy > 0 ? 0 : 1; return ty; }
    if (tx <= tz) { HIT[ENV_FACE] = dx > 0 ? 3 : 2; return tx; }
    HIT[ENV_FACE] = dz > 0 ? 5 : 4;
    return tz;
  }
  let t = SKY_DISTANCE;
  HIT[ENV_FACE] = 3;
  if (dy > 1e-12) {
    const tg = (env[1]! - oy) / dy;
    if (tg < t) { t = tg; HIT[ENV_FACE] = 0; }
  }
  const W = env[2]!, D = env[3]!;
  if (dx > 1e-12) t = traceRow(p.rowPos, (W - ox) / dx, (W + D - ox) / dx, -1, oy, oz, dy, dz, t);
  else if (dx < -1e-12) t = traceRow(p.rowNeg, (-W - ox) / dx, (-W - D - ox) / dx, 1, oy, oz, dy, dz, t);
  return t;
}

/** Poses the movers at time `t` and moves every object's ray origin into its frame for the camera at `o`. */
function prepareFrame(p: PackedScene, t: number, ox: number, oy: number, oz: number): void {
  const { spec, prims } = p;
  const first = spec.statics.length;
  spec.movers.forEach((m, i) => {
    const pose = moverPose(m, t);
    setObject(p, first + i, SHAPE_CODE[m.shape], pose.centre, pose.yaw, m.half, m.texture, m.id);
  });
  for (let b = 0; b < prims.length; b += PRIM_STRIDE) {
    const rx = ox - prims[b + 1]!, ry = oy - prims[b + 2]!, rz = oz - prims[b + 3]!;
    const c = prims[b + P_COS]!, s = prims[b + P_SIN]!;
    const lx = c * rx - s * rz, lz = s * rx + c * rz;
    const r = prims[b + P_HX]!;
    prims[b + P_LOX] = lx;
    prims[b + P_LOX + 1] = ry;
    prims[b + P_LOX + 2] = lz;
    prims[b + P_K] = prims[b + P_SHAPE] === SHAPE_CODE.sphere ? lx * lx + ry * ry + lz * lz - r * r : lx * lx + lz * lz - r * r;
    prims[b + P_BX] = -rx;
    prims[b + P_BX + 1] = -ry;
    prims[b + P_BX + 2] = -rz;
  }
}

/**
 * Conservative pixel bounds [x0, x1, y0, y1] (inclusive) in this frame's image of a sphere with centre − camera
 * centre (bx, by, bz) and radius r, from the planes through the camera tangent to it; the whole image when the
 * sphere reaches behind the camera. Written to `out` at `k`. A pixel outside the bounds cannot see the sphere.
 */
function sphereBounds(cam: Camera, size: number, bx: number, by: number, bz: number, r: number, out: Int32Array, k: number): void {
  const m = cam.c2w;
  const qx = m[0]! * bx + m[4]! * by + m[8]! * bz; // camera frame: Rᵀ (centre − origin)
  const qy = m[1]! * bx + m[5]! * by + m[9]! * bz;
  const qz = m[2]! * bx + m[6]! * by + m[10]! * bz;
  if (qz - r <= 1e-3) {
    out.set([0, size - 1, 0, size - 1], k);
    return;
  }
  for (let axis = 0; axis < 2; axis++) {
    const q = axis === 0 ? qx : qy, f = cam.fxfycxcy[axis]!, c = cam.fxfycxcy[axis + 2]!;
    const theta = Math.atan2(q, qz), alpha = Math.asin(r / Math.sqrt(q * q + qz * qz));
    out[k + 2 * axis] = Math.max(0, Math.floor(f * Math.tan(theta - alpha) + c) - 1);
    out[k + 2 * axis + 1] = Math.min(size - 1, Math.floor(f * Math.tan(theta + alpha) + c) + 1);
  }
}

/**
 * Per-frame screen bounds of every object (first `nAll` entries) and of every blob shadow (next `nAll`: the sphere
 * around its floor disc out to where the darkening reaches exactly zero).
 */
function screenBounds(p: PackedScene, cam: Camera, ox: number, oy: number, oz: number, out: Int32Array): void {
  const { prims, shadows } = p;
  const size = p.spec.size;
  const nAll = prims.length / PRIM_STRIDE;
  for (let i = 0; i < nAll; i++) {
    const b = i * PRIM_STRIDE;
    sphereBounds(cam, size, prims[b + P_BX]!, prims[b + P_BX + 1]!, prims[b + P_BX + 2]!, prims[b + P_BR]!, out, 4 * i);
    const sb = i * SHADOW_STRIDE;
    const hx = shadows[sb + 4]!, hz = shadows[sb + 5]!;
    const reach = (hz < 0 ? hx : Math.hypot(hx, hz)) + 1 / shadows[sb + 7]!;
    sphereBounds(cam, size, shadows[sb]! - ox, p.spec.floorY - oy, shadows[sb + 1]! - oz, reach, out, 4 * (nAll + i));
  }
}

/**
 * Renders frame `frame` of a packed scene with `samplesPerPixel` (a perfect square n²) jittered samples per pixel;
 * n = 1 samples the pixel centres exactly. Returns new arrays the caller owns. Not re-entrant (module scratch).
 */
export function renderFrame(p: PackedScene, frame: number, opts: RenderOptions): RenderedFrame {
  const size = p.spec.size;
  const n = Math.round(Math.sqrt(opts.samplesPerPixel));
  const spp = n * n;
  const invN = 1 / n;
  const cam = p.spec.cameras[frame]!;
  const m = cam.c2w;
  const [ox, oy, oz] = mat4Translation(m);
  const [r00, r01, r02, r10, r11, r12, r20, r21, r22] = [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!];
  const [fx, fy, cx, cy] = cam.fxfycxcy;
  const [ifx, ify] = [1 / fx, 1 / fy];
  prepareFrame(p, p.spec.times[frame]!, ox, oy, oz);
  const { prims, tex, env, light, shadows, jitter } = p;
  const nStatic = p.spec.statics.length;
  const nAll = nStatic + p.spec.movers.length;
  const bounds = new Int32Array(8 * nAll); // objects, then their blob shadows
  screenBounds(p, cam, ox, oy, oz, bounds);
  const staticBits = (1 << nStatic) - 1;
  const moverShadows = opts.moverShadows && nAll > nStatic;
  const isRoom = env[0] === 0;
  const plane = size * size;
  const out: RenderedFrame = {
    image: new Float32Array(3 * plane),
    static: new Float32Array(3 * plane),
    mask: new Uint8Array(plane),
    depth: new Float32Array(plane),
    ids: new Int16Array(plane),
    touched: new Uint8Array(plane),
  };
  const col = scratchStatic, mcol = scratchMover;
  const centre = n >> 1;
  let j = p.jitterStart[frame]!;
  for (let py = 0; py < size; py++) {
    let rowBits = 0, rowShadowBits = 0; // objects (shadows) whose bounds include this row
    for (let i = 0; i < nAll; i++) {
      if (bounds[4 * i + 2]! <= py && py <= bounds[4 * i + 3]!) rowBits |= 1 << i;
      if (bounds[4 * (nAll + i) + 2]! <= py && py <= bounds[4 * (nAll + i) + 3]!) rowShadowBits |= 1 << i;
    }
    for (let px = 0; px < size; px++) {
      let bits = 0, shadowBits = 0; // objects (shadows) this pixel's samples may see
      for (let r = rowBits; r !== 0; r &= r - 1) {
        const i = 31 - Math.clz32(r & -r);
        if (bounds[4 * i]! <= px && px <= bounds[4 * i + 1]!) bits |= 1 << i;
      }
      for (let r = rowShadowBits; r !== 0; r &= r - 1) {
        const i = 31 - Math.clz32(r & -r);
        if (bounds[4 * (nAll + i)]! <= px && px <= bounds[4 * (nAll + i) + 1]!) shadowBits |= 1 << i;
      }
      const sBits = bits & staticBits, mBits = bits & ~staticBits;
      const sShadow = shadowBits & staticBits, mShadow = moverShadows ? shadowBits & ~staticBits : 0;
      let sr = 0, sg = 0, sb = 0, or = 0, og = 0, ob = 0, depth = 0, moverHits = 0, touched = 0, id = -1;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          let jx = 0.5, jy = 0.5;
          if (n > 1) {
            jx = jitter[2 * j]!;
            jy = jitter[2 * j + 1]!;
            if (++j === JITTER_PAIRS) j = 0;
          }
          const u = (px + (sx + jx) * invN - cx) * ifx; // camera-frame x / z of the sample
          const v = (py + (sy + jy) * invN - cy) * ify;
          const inv = 1 / Math.sqrt(u * u + v * v + 1); // 1/|(u, v, 1)|: also z-depth per unit of distance
          const dx = (r00 * u + r01 * v + r02) * inv, dy = (r10 * u + r11 * v + r12) * inv, dz = (r20 * u + r21 * v + r22) * inv;
          const isCentre = sx === centre && sy === centre;

          // Nearest static hit, shaded with the static objects' blob shadows on the floor.
          let tS = traceEnv(p, ox, oy, oz, dx, dy, dz);
          let hit = -1, face = 0;
          for (let r = sBits; r !== 0; r &= r - 1) {
            const b = (31 - Math.clz32(r & -r)) * PRIM_STRIDE;
            const t = intersect(prims, b, dx, dy, dz, tS);
            if (t < tS) { tS = t; hit = b; face = HIT[HIT_FACE]!; }
          }
          let floor = false;
          if (hit >= 0) shadePrim(prims, hit, face, tS, dx, dy, dz, tex, light, col);
          else if (isRoom) {
            shadeRoom(env, HIT[ENV_FACE]!, ox + tS * dx, oy + tS * dy, oz + tS * dz, tex, light, col);
            floor = HIT[ENV_FACE] === 0;
          } else {
            const sky = HIT[ENV_FACE] === 3;
            shadeStreet(env, HIT[ENV_FACE]!, HIT[ENV_TEX]!, HIT[ENV_NORMAL]!, sky ? dx : ox + tS * dx, sky ? dy : oy + tS * dy, sky ? dz : oz + tS * dz, tS, tex, light, col);
            floor = HIT[ENV_FACE] === 0;
          }
          if (floor && sShadow !== 0) {
            const f = blobShadow(shadows, sShadow, ox + tS * dx, oz + tS * dz);
            col[0] = col[0]! * f;
            col[1] = col[1]! * f;
            col[2] = col[2]! * f;
          }
          sr += col[0]!;
          sg += col[1]!;
          sb += col[2]!;

          // Nearest mover in front of it.
          let tM = tS, mHit = -1, mFace = 0;
          for (let r = mBits; r !== 0; r &= r - 1) {
            const b = (31 - Math.clz32(r & -r)) * PRIM_STRIDE;
            const t = intersect(prims, b, dx, dy, dz, tM);
            if (t < tM) { tM = t; mHit = b; mFace = HIT[HIT_FACE]!; }
          }
          if (mHit >= 0) {
            shadePrim(prims, mHit, mFace, tM, dx, dy, dz, tex, light, mcol);
            or += mcol[0]!;
            og += mcol[1]!;
            ob += mcol[2]!;
            depth += tM * inv;
            moverHits++;
            touched = 1;
            if (isCentre) id = prims[mHit + P_ID]!;
          } else {
            let f = 1; // mover shadows darken the observed floor only
            if (floor && mShadow !== 0) {
              f = blobShadow(shadows, mShadow, ox + tS * dx, oz + tS * dz);
              if (f < 1) touched = 1;
            }
            or += col[0]! * f;
            og += col[1]! * f;
            ob += col[2]! * f;
            depth += tS * inv;
            if (isCentre) id = hit >= 0 ? prims[hit + P_ID]! : -1;
          }
        }
      }
      const i = py * size + px;
      const w = 1 / spp;
      out.static[i] = sr * w;
      out.static[plane + i] = sg * w;
      out.static[2 * plane + i] = sb * w;
      out.image[i] = or * w;
      out.image[plane + i] = og * w;
      out.image[2 * plane + i] = ob * w;
      out.depth[i] = depth * w;
      out.mask[i] = 2 * moverHits >= spp ? 1 : 0;
      out.ids[i] = id;
      out.touched[i] = touched;
    }
  }
  return out;
}

const scratchStatic = new Float64Array(3);
const scratchMover = new Float64Array(3);

/** Projects world point `p` with `camera`: pixel coordinates (x, y; pixel centres at +0.5) and z-depth. */
export function projectPoint(camera: { c2w: number[]; fxfycxcy: readonly number[] }, p: readonly [number, number, number]): { x: number; y: number; z: number } {
  const q = transformPoint(rigidInverse(camera.c2w), p);
  const [fx, fy, cx, cy] = camera.fxfycxcy as [number, number, number, number];
  return { x: (fx * q[0]) / q[2] + cx, y: (fy * q[1]) / q[2] + cy, z: q[2] };
}
