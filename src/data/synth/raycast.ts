/**
 * The ray caster of the synthetic scenes: renders one frame of a packed scene (pack.ts) at a time (`renderFrame`). For every sub-pixel sample of a jittered n × n grid it casts the
 * camera ray, finds the nearest static hit (room or street, static objects) and the nearest mover in front of it,
 * and so produces in one pass the observed image, the clean static image (movers and their shadows removed), the
 * motion mask, z-depth, a centre-sample object-id map and a "mover touched" map. Rays follow cameras.ts / rays.ts
 * (`pixelRay`): image point (x + 0.5, y + 0.5) for pixel (x, y), direction R · [(X − cx)/fx, (Y − cy)/fy, 1] — kept
 * unnormalised, so that every ray parameter t is the z-depth of its point.
 *
 * Speed: the hot loop allocates nothing; doubles cross function calls through `REG` (layout.ts). Per frame it
 * precomputes the rotation, the movers' poses, each object's ray origin in its own frame and each object's (and
 * blob shadow's) conservative screen bounds, so a pixel's samples only test the objects that can cover it.
 */
import type { Camera } from "../../geometry/cameras.ts";
import { mat4Translation, rigidInverse, transformPoint } from "../../geometry/mat4.ts";
import { intersect, traceStreet } from "./intersect.ts";
import {
  E_FACE, E_NORMAL, E_TEX, ENV_HIT, ENV_ROOM, P_BR, P_BX, P_ID, PRIM_STRIDE, R_DX, R_HIT, R_OX, R_SHADOW, R_T, REG, SHADOW_STRIDE,
} from "./layout.ts";
import { JITTER_PAIRS, prepareFrame, type PackedScene } from "./pack.ts";
import { blobShadow, shadePrim, shadeRoom, shadeStreet } from "./shading.ts";

export { SKY_DISTANCE } from "./layout.ts";

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
  const { prims, tex, env, light, shadows, jitter, rowNeg, rowPos } = p;
  const nStatic = p.spec.statics.length;
  const nAll = nStatic + p.spec.movers.length;
  const bounds = new Int32Array(8 * nAll); // objects, then their blob shadows
  screenBounds(p, cam, ox, oy, oz, bounds);
  const staticBits = (1 << nStatic) - 1;
  const moverShadows = opts.moverShadows && nAll > nStatic;
  const isRoom = env[0] === ENV_ROOM;
  const [ex0, ey0, ez0, ex1, ey1, ez1] = [env[1]!, env[2]!, env[3]!, env[4]!, env[5]!, env[6]!]; // room box
  const plane = size * size;
  const [image, still, mask, depthOut, ids, touchedOut] = [
    new Float32Array(3 * plane), new Float32Array(3 * plane), new Uint8Array(plane), new Float32Array(plane), new Int16Array(plane), new Uint8Array(plane),
  ];
  const col = scratchStatic, mcol = scratchMover;
  const centre = n >> 1;
  let j = p.jitterStart[frame]!;
  REG[R_OX] = ox;
  REG[R_OX + 1] = oy;
  REG[R_OX + 2] = oz;
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
          // R · (u, v, 1), not normalised: distances along it are z-depths (its camera-frame z is 1), and no
          // sample pays for a square root (intersect.ts and shading.ts take any direction length).
          const dx = r00 * u + r01 * v + r02, dy = r10 * u + r11 * v + r12, dz = r20 * u + r21 * v + r22;
          REG[R_DX] = dx;
          REG[R_DX + 1] = dy;
          REG[R_DX + 2] = dz;
          const isCentre = sx === centre && sy === centre;

          // Nearest static hit: the set first, then the static objects this pixel may see.
          let tS: number, envFace: number;
          if (isRoom) {
            // From inside the box the ray leaves through the nearest of the three exit planes, at distance
            // t = gap / |d| per axis (gap ≥ 0 to the plane ahead); compare gapA·|dB| with gapB·|dA| to divide once.
            const gx = dx > 0 ? ex1 - ox : ox - ex0, gy = dy > 0 ? ey1 - oy : oy - ey0, gz = dz > 0 ? ez1 - oz : oz - ez0;
            const ax = dx > 0 ? dx : -dx, ay = dy > 0 ? dy : -dy, az = dz > 0 ? dz : -dz;
            if (gy * ax <= gx * ay && gy * az <= gz * ay) { tS = gy / ay; envFace = dy > 0 ? 0 : 1; }
            else if (gx * az <= gz * ax) { tS = gx / ax; envFace = dx > 0 ? 3 : 2; }
            else { tS = gz / az; envFace = dz > 0 ? 5 : 4; }
          } else {
            traceStreet(env, rowNeg, rowPos);
            tS = REG[R_HIT]!;
            envFace = ENV_HIT[E_FACE]!;
          }
          let hit = -1, face = 0;
          for (let r = sBits; r !== 0; r &= r - 1) {
            const b = (31 - Math.clz32(r & -r)) * PRIM_STRIDE;
            REG[R_T] = tS;
            const f = intersect(prims, b);
            if (f !== 0) { tS = REG[R_HIT]!; hit = b; face = f - 1; }
          }
          // Shade it, with the static objects' blob shadows on the floor.
          REG[R_T] = tS;
          let floor = false;
          if (hit >= 0) shadePrim(prims, hit, face, tex, light, col);
          else if (isRoom) {
            shadeRoom(env, envFace, tex, light, col);
            floor = envFace === 0;
          } else {
            shadeStreet(env, envFace, ENV_HIT[E_TEX]!, ENV_HIT[E_NORMAL]!, tex, light, col);
            floor = envFace === 0;
          }
          if (floor && sShadow !== 0) {
            blobShadow(shadows, sShadow);
            const f = REG[R_SHADOW]!;
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
            REG[R_T] = tM;
            const f = intersect(prims, b);
            if (f !== 0) { tM = REG[R_HIT]!; mHit = b; mFace = f - 1; }
          }
          if (mHit >= 0) {
            REG[R_T] = tM;
            shadePrim(prims, mHit, mFace, tex, light, mcol);
            or += mcol[0]!;
            og += mcol[1]!;
            ob += mcol[2]!;
            depth += tM;
            moverHits++;
            touched = 1;
            if (isCentre) id = prims[mHit + P_ID]!;
          } else {
            let f = 1; // mover shadows darken the observed floor only
            if (floor && mShadow !== 0) {
              blobShadow(shadows, mShadow); // REG[R_T] still holds tS
              f = REG[R_SHADOW]!;
              if (f < 1) touched = 1;
            }
            or += col[0]! * f;
            og += col[1]! * f;
            ob += col[2]! * f;
            depth += tS;
            if (isCentre) id = hit >= 0 ? prims[hit + P_ID]! : -1;
          }
        }
      }
      const i = py * size + px;
      const w = 1 / spp;
      still[i] = sr * w;
      still[plane + i] = sg * w;
      still[2 * plane + i] = sb * w;
      image[i] = or * w;
      image[plane + i] = og * w;
      image[2 * plane + i] = ob * w;
      depthOut[i] = depth * w;
      mask[i] = 2 * moverHits >= spp ? 1 : 0;
      ids[i] = id;
      touchedOut[i] = touched;
    }
  }
  return { image, static: still, mask, depth: depthOut, ids, touched: touchedOut };
}

const scratchStatic = new Float64Array(3);
const scratchMover = new Float64Array(3);

/** Projects world point `p` with `camera`: pixel coordinates (x, y; pixel centres at +0.5) and z-depth. */
export function projectPoint(camera: { c2w: number[]; fxfycxcy: readonly number[] }, p: readonly [number, number, number]): { x: number; y: number; z: number } {
  const q = transformPoint(rigidInverse(camera.c2w), p);
  const [fx, fy, cx, cy] = camera.fxfycxcy as [number, number, number, number];
  return { x: (fx * q[0]) / q[2] + cx, y: (fy * q[1]) / q[2] + cy, z: q[2] };
}
