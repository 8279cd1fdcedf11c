/**
 * Camera paths of the synthetic scenes: OpenCV camera-to-world poses (src/geometry/cameras.ts) at irregular frame
 * times. Every scene draws its own speed, direction and frame gaps, so the view index never gives the pose away
 * (docs/METHOD.md ("Small-model training"), study 2: with regular paths the model learned a per-index mean trajectory instead of reading poses).
 *   walk    forward or sideways along a random heading, with a small yaw / pitch wobble
 *   pan     near-fixed position, yaw sweep at a random rate and sign
 *   jitter  look-around: independent random rotations (±10°) and translations per frame, so no order at all
 *   orbit   an arc around a point in front of the camera, always looking at it
 * The world is OpenCV-like (y down; the floor is at y = floorY > 0 below a camera near y = 0); cameras stay inside
 * the `Arena` rectangle (horizontal x, z).
 */
import type { Rng } from "../../engine/rng.ts";
import { lookAt, mat3Mul, mat4FromRt, type Mat3, type Mat4, type Vec3 } from "../../geometry/mat4.ts";
import { axisAngleToMat3 } from "../../geometry/rotations.ts";

export type PathKind = "walk" | "pan" | "jitter" | "orbit";
export const PATH_KINDS: readonly PathKind[] = ["walk", "pan", "jitter", "orbit"];

/** The horizontal rectangle (metres) the camera centres must stay in. */
export type Arena = { xMin: number; xMax: number; zMin: number; zMax: number };

const DEG = Math.PI / 180;

/**
 * Frame times in seconds: t_0 = 0, then a cumulative sum of random gaps around a per-scene mean gap
 * (0.15–0.35 s, each gap ×0.4–1.6), so both the spacing and the overall pace vary between and within scenes.
 */
export function frameTimes(rng: Rng, frames: number): number[] {
  const meanGap = rng.uniform(0.15, 0.35);
  const times = [0];
  for (let i = 1; i < frames; i++) times.push(times[i - 1]! + meanGap * rng.uniform(0.4, 1.6));
  return times;
}

/**
 * Camera rotation (columns = camera x, y, z axes in the world) for a heading `yaw` (0 looks along +z, π/2 along +x),
 * a downward tilt `pitchDown` and a `roll`, all in radians: R = Ry(yaw) · Rx(−pitchDown) · Rz(roll).
 */
export function cameraRotation(yaw: number, pitchDown: number, roll: number): Mat3 {
  const ry = axisAngleToMat3([0, 1, 0], yaw);
  const rx = axisAngleToMat3([1, 0, 0], -pitchDown);
  const rz = axisAngleToMat3([0, 0, 1], roll);
  return mat3Mul(ry, mat3Mul(rx, rz));
}

const inside = (a: Arena, x: number, z: number): boolean => x >= a.xMin && x <= a.xMax && z >= a.zMin && z <= a.zMax;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
/** Heading from (x, z) towards the arena centre. */
const yawToCentre = (a: Arena, x: number, z: number): number => Math.atan2((a.xMin + a.xMax) / 2 - x, (a.zMin + a.zMax) / 2 - z);
const randomPoint = (rng: Rng, a: Arena): [number, number] => [rng.uniform(a.xMin, a.xMax), rng.uniform(a.zMin, a.zMax)];

/** A slow sinusoid with random amplitude (radians or metres), frequency and phase: the wobble of a hand-held camera. */
function wobble(rng: Rng, amplitude: number): (t: number) => number {
  const a = amplitude * rng.uniform(0.3, 1), w = rng.uniform(1.5, 5), phi = rng.uniform(0, 2 * Math.PI);
  return (t) => a * Math.sin(w * t + phi);
}

/**
 * One camera-to-world matrix per frame time for a path of `kind`. `camY` is the camera height (world y, near 0),
 * `target` a suggested look-at height for orbits (world y of object centres).
 */
export function cameraPath(rng: Rng, kind: PathKind, times: readonly number[], arena: Arena, camY: number, targetY: number): Mat4[] {
  switch (kind) {
    case "walk":
      return walkPath(rng, times, arena, camY);
    case "pan":
      return panPath(rng, times, arena, camY);
    case "jitter":
      return jitterPath(rng, times, arena, camY);
    case "orbit":
      return orbitPath(rng, times, arena, camY, targetY);
  }
}

function walkPath(rng: Rng, times: readonly number[], arena: Arena, camY: number): Mat4[] {
  const duration = times[times.length - 1]!;
  const pitch0 = rng.uniform(3, 15) * DEG;
  const [yawW, pitchW, rollW, bobW] = [wobble(rng, 4 * DEG), wobble(rng, 2 * DEG), wobble(rng, 1.5 * DEG), wobble(rng, 0.03)];
  let best = { x: 0, z: 0, yaw: 0, dir: [0, 1] as [number, number], speed: 0, acc: 0 };
  for (let attempt = 0; attempt < 60; attempt++) {
    const [x, z] = randomPoint(rng, arena);
    const yaw = yawToCentre(arena, x, z) + rng.uniform(-45, 45) * DEG;
    // 60 %: forward / backward along the view; 40 %: sideways (a dolly) with some diagonal.
    const offset = rng.next() < 0.6 ? rng.uniform(-20, 20) * DEG + (rng.next() < 0.2 ? Math.PI : 0) : (rng.next() < 0.5 ? 1 : -1) * rng.uniform(55, 100) * DEG;
    const heading = yaw + offset;
    const dir: [number, number] = [Math.sin(heading), Math.cos(heading)];
    const speed = rng.uniform(0.25, 0.9) * (attempt < 30 ? 1 : 0.4); // m/s
    const acc = rng.uniform(-0.4, 0.4) * (speed / Math.max(duration, 1e-6)); // gentle speed change, keeps s(t) monotone
    const len = speed * duration + 0.5 * acc * duration * duration;
    best = { x, z, yaw, dir, speed, acc };
    if (inside(arena, x + dir[0] * len, z + dir[1] * len)) break;
    if (attempt === 59) best.speed = best.acc = 0; // nothing fits: stand still (a tiny arena)
  }
  const { x, z, yaw, dir, speed, acc } = best;
  return times.map((t) => {
    const s = speed * t + 0.5 * acc * t * t;
    const eye: Vec3 = [clamp(x + dir[0] * s, arena.xMin, arena.xMax), camY + bobW(t), clamp(z + dir[1] * s, arena.zMin, arena.zMax)];
    return mat4FromRt(cameraRotation(yaw + yawW(t), pitch0 + pitchW(t), rollW(t)), eye);
  });
}

function panPath(rng: Rng, times: readonly number[], arena: Arena, camY: number): Mat4[] {
  const duration = times[times.length - 1]!;
  const [x, z] = randomPoint(rng, arena);
  const yawMid = yawToCentre(arena, x, z) + rng.uniform(-35, 35) * DEG;
  const sweep = Math.min(rng.uniform(10, 35) * DEG * duration, 70 * DEG); // total yaw change, radians
  const rate = ((rng.next() < 0.5 ? -1 : 1) * sweep) / Math.max(duration, 1e-6);
  const pitch0 = rng.uniform(0, 15) * DEG;
  const drift: [number, number] = [rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08)]; // m/s: a hand-held pan
  const [pitchW, rollW] = [wobble(rng, 2 * DEG), wobble(rng, 1 * DEG)];
  return times.map((t) => {
    const eye: Vec3 = [clamp(x + drift[0] * t, arena.xMin, arena.xMax), camY, clamp(z + drift[1] * t, arena.zMin, arena.zMax)];
    return mat4FromRt(cameraRotation(yawMid + rate * (t - duration / 2), pitch0 + pitchW(t), rollW(t)), eye);
  });
}

function jitterPath(rng: Rng, times: readonly number[], arena: Arena, camY: number): Mat4[] {
  const [x, z] = randomPoint(rng, arena);
  const yaw0 = yawToCentre(arena, x, z) + rng.uniform(-30, 30) * DEG;
  const pitch0 = rng.uniform(3, 12) * DEG;
  const reach = rng.uniform(0.1, 0.3); // metres of translation jitter
  return times.map(() => {
    const eye: Vec3 = [
      clamp(x + rng.uniform(-reach, reach), arena.xMin, arena.xMax),
      camY + rng.uniform(-reach, reach) / 3,
      clamp(z + rng.uniform(-reach, reach), arena.zMin, arena.zMax),
    ];
    return mat4FromRt(cameraRotation(yaw0 + rng.uniform(-10, 10) * DEG, pitch0 + rng.uniform(-10, 10) * DEG, rng.uniform(-4, 4) * DEG), eye);
  });
}

function orbitPath(rng: Rng, times: readonly number[], arena: Arena, camY: number, targetY: number): Mat4[] {
  const duration = times[times.length - 1]!;
  let eyes: Vec3[] = [];
  let target: Vec3 = [0, targetY, 0];
  for (let attempt = 0; attempt < 60; attempt++) {
    const [x, z] = randomPoint(rng, arena);
    const yaw = yawToCentre(arena, x, z) + rng.uniform(-30, 30) * DEG;
    const radius = rng.uniform(1.5, 3.2);
    target = [x + Math.sin(yaw) * radius, targetY, z + Math.cos(yaw) * radius];
    const a0 = Math.atan2(x - target[0], z - target[2]); // angle of the camera seen from the target
    const arc = Math.min(rng.uniform(10, 30) * DEG * duration, 80 * DEG) * (attempt < 30 ? 1 : 0.3);
    const rate = ((rng.next() < 0.5 ? -1 : 1) * arc) / Math.max(duration, 1e-6); // rad/s
    const lift = rng.uniform(-0.15, 0.15); // m over the clip
    eyes = times.map((t) => {
      const a = a0 + rate * t;
      return [target[0] + radius * Math.sin(a), camY + (lift * t) / Math.max(duration, 1e-6), target[2] + radius * Math.cos(a)];
    });
    if (eyes.every((e) => inside(arena, e[0], e[2]))) break;
    if (attempt === 59) eyes = eyes.map(() => [x, camY, z]); // nothing fits: look at the target from one place
  }
  return eyes.map((e) => lookAt(e, target));
}
