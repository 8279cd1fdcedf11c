/**
 * Packed layouts and scratch registers shared by the ray caster's files (raycast.ts, intersect.ts, shading.ts).
 * A scene is packed into flat Float64Arrays once; the hot loop then reads numbers only.
 *
 * Why registers: V8 passes numbers to and from a function it does not inline as tagged values, so every double
 * argument or result of such a call allocates a heap number. The hot loop has a handful of such calls per sample
 * (intersections, texture lookups, shading), so doubles cross them through `REG`, a Float64Array, and the calls
 * take and return only small integers and arrays. Measured on 64² rooms: 202 → 121 ns per sample.
 */

/** Scratch registers: doubles passed between the ray caster's functions. */
export const REG = new Float64Array(16);
export const R_OX = 0; // ray origin x, y, z (the camera centre; set once per frame)
export const R_DX = 3; // ray direction x, y, z (set per sample): R · (u, v, 1), not unit length
export const R_T = 6; // ray parameter of the hit being shaded (its z-depth), or the current nearest when intersecting
export const R_HIT = 7; // result of `intersect`: ray parameter of the hit it reports
export const R_SHADOW = 8; // result of `blobShadow`: the darkening factor

/** Integer side results of the environment trace (street). */
export const ENV_HIT = new Int32Array(3);
export const E_FACE = 0; // 0 ground, 1 building front, 2 building end, 3 sky
export const E_TEX = 1; // texture offset of the building hit
export const E_NORMAL = 2; // sign of that building face's normal along x (front) or z (end)

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
export const P_BX = 15; // this frame's centre − ray origin (world x, y, z)
export const P_BR = 18; // bounding-sphere radius
export const SHAPE_CODE = { box: 0, sphere: 1, cylinder: 2, capsule: 3 } as const;

/** Packed light: direction towards the light (x, y, z), ambient, diffuse. */
export const L_DIR = 0;
export const L_AMBIENT = 3;
export const L_DIFFUSE = 4;

/** Packed blob shadow: centre x, z, cos, sin, half x, half z (−1: a disc of radius half x), strength, 1/softness. */
export const SHADOW_STRIDE = 8;

/**
 * Packed environments: room = [0, min xyz, max xyz, texture offsets of floor, ceiling, wall x0, x1, z0, z1];
 * street = [1, floorY, halfWidth, depth, ground texture offset, horizon rgb, zenith rgb, highest roof y of the −x
 * and of the +x row]. Street buildings are rows of [zMin, zMax, roof y, texture offset], sorted by z.
 */
export const ENV_ROOM = 0;
export const ENV_STREET = 1;

/** Rays that hit nothing in the street see the sky at this z-depth (m). */
export const SKY_DISTANCE = 500;
/** Hits nearer than this ray parameter (≈ m) are ignored (self-intersection guard). */
export const EPS = 1e-6;
