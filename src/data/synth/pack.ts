/**
 * Packing for the synthetic ray caster: a `SceneSpec` (sceneSpec.ts) becomes flat Float64Arrays in the layouts of
 * layout.ts once per scene (`packScene`: set, textures, light, static objects, blob shadows, the sub-pixel jitter
 * table), and per frame the movers are posed and every object's ray origin moved into its own frame
 * (`prepareFrame`). raycast.ts renders from the packed scene.
 */
import { makeRng } from "../../engine/rng.ts";
import {
  ENV_ROOM, ENV_STREET, P_BR, P_BX, P_COS, P_HX, P_ID, P_K, P_LOX, P_SHAPE, P_SIN, P_TEX, PRIM_STRIDE, SHADOW_STRIDE, SHAPE_CODE,
} from "./layout.ts";
import { moverPose } from "./motion.ts";
import type { SceneSpec } from "./sceneSpec.ts";
import { packTextures, TEXTURE_STRIDE } from "./textures.ts";

export type PackedScene = {
  spec: SceneSpec;
  tex: Float64Array;
  /** Room or street, see layout.ts. */
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
export const JITTER_PAIRS = 1021;

/** Packs the static parts of `spec`; movers are filled in per frame by `renderFrame`. */
export function packScene(spec: SceneSpec): PackedScene {
  const tex = packTextures(spec.textures);
  const S = TEXTURE_STRIDE;
  const e = spec.env;
  const env =
    e.kind === "room"
      ? Float64Array.from([ENV_ROOM, ...e.min, ...e.max, ...[e.textures.floor, e.textures.ceiling, e.textures.wallXMin, e.textures.wallXMax, e.textures.wallZMin, e.textures.wallZMax].map((i) => i * S)])
      : Float64Array.from([ENV_STREET, spec.floorY, e.halfWidth, e.depth, e.ground * S, ...e.skyHorizon, ...e.skyZenith, ...[-1, 1].map((side) => roofTop(spec, side))]);
  const row = (side: number) =>
    Float64Array.from(
      e.kind === "room" ? [] : e.buildings.filter((b) => b.side === side).sort((a, b) => a.zMin - b.zMin).flatMap((b) => [b.zMin, b.zMax, spec.floorY - b.height, b.texture * S]),
    );
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

/** World y of the highest roof on `side` of a street (y points down: the minimum). */
function roofTop(spec: SceneSpec, side: number): number {
  const heights = spec.env.kind === "street" ? spec.env.buildings.filter((b) => b.side === side).map((b) => b.height) : [];
  return spec.floorY - Math.max(0, ...heights);
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

/** Poses the movers at time `t` and moves every object's ray origin into its frame for the camera at `o`. */
export function prepareFrame(p: PackedScene, t: number, ox: number, oy: number, oz: number): void {
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
