/**
 * Moving objects ("movers") of the synthetic scenes and where each one is at a given time. Four kinds, each with its
 * own speed, sharing the camera's frame times:
 *   person  a vertical capsule walking along a straight line on the floor
 *   car     a box driving along its heading
 *   ball    a sphere rolling along a line in parabolic hops
 *   turner  a box turning in place (with a slow slide)
 * A mover is described by the pose it has at the middle of the clip (`tMid`), so a mover spawned in view stays in
 * view around the middle frames. World frame as everywhere in synth/: OpenCV-like, y down, floor at y = floorY.
 */
import type { Rng } from "../../engine/rng.ts";
import type { Vec3 } from "../../geometry/mat4.ts";

export type MoverKind = "person" | "car" | "ball" | "turner";
export const MOVER_KINDS: readonly MoverKind[] = ["person", "car", "ball", "turner"];

/** Shapes the ray caster knows. `half` holds the half-extents (box), radius (sphere) or radius and half-height. */
export type Shape = "box" | "sphere" | "cylinder" | "capsule";

export type Mover = {
  /** Object id (unique in the scene, after the static objects). */
  id: number;
  kind: MoverKind;
  shape: Shape;
  /**
   * box: half-extents [x, y, z] in its own frame (z along its heading); sphere: [r, r, r];
   * capsule: [r, half-height of the straight part, r] (total height 2·(half + r)).
   */
  half: Vec3;
  /** Index into the scene's texture list. */
  texture: number;
  /** True when the texture was copied from the background (hard case for motion masks). */
  hardCase: boolean;
  /** Centre at time `tMid` (seconds), resting on the floor (lowest point of a bouncing ball). */
  anchor: Vec3;
  tMid: number;
  /** Direction of travel (radians; 0 = +z, π/2 = +x) and speed (m/s). */
  heading: number;
  speed: number;
  /** Yaw at `tMid` (radians) and spin rate (rad/s, turners only). */
  yaw: number;
  spin: number;
  /** Balls: hop period (s), hop height (m) and phase (fraction of a period). */
  hopPeriod: number;
  hopHeight: number;
  hopPhase: number;
};

/** The pose of a mover at time `t` (seconds): centre (world) and yaw (radians about the vertical axis). */
export function moverPose(m: Mover, t: number): { centre: Vec3; yaw: number } {
  const s = m.speed * (t - m.tMid); // metres along the heading from the anchor
  const x = m.anchor[0] + Math.sin(m.heading) * s;
  const z = m.anchor[2] + Math.cos(m.heading) * s;
  let y = m.anchor[1];
  if (m.kind === "ball") {
    const ph = (t / m.hopPeriod + m.hopPhase) % 1; // parabolic hop: height 4h·ph·(1 − ph)
    y -= 4 * m.hopHeight * ph * (1 - ph); // y points down: up is −y
  }
  const yaw = m.kind === "turner" ? m.yaw + m.spin * (t - m.tMid) : m.yaw;
  return { centre: [x, y, z], yaw };
}

/** Horizontal bounding radius (m) of a mover's footprint, for spacing and keep-away checks. */
export function footprintRadius(shape: Shape, half: Readonly<Vec3>): number {
  return shape === "box" ? Math.hypot(half[0], half[2]) : half[0];
}

/** Body of a new mover of `kind`: its shape, size (m) and motion parameters, drawn at random. */
export function randomMoverBody(
  rng: Rng,
  kind: MoverKind,
  street: boolean,
): Pick<Mover, "shape" | "half" | "speed" | "spin" | "hopPeriod" | "hopHeight" | "hopPhase"> {
  const still = { spin: 0, hopPeriod: 1, hopHeight: 0, hopPhase: 0 };
  switch (kind) {
    case "person": {
      const r = rng.uniform(0.18, 0.28);
      const height = rng.uniform(1.45, 1.85); // m, total
      return { shape: "capsule", half: [r, height / 2 - r, r], speed: rng.uniform(0.6, 1.4), ...still };
    }
    case "car": {
      // a toy car indoors, a real one in the street
      const s = street ? rng.uniform(2.2, 3.2) : rng.uniform(0.6, 1.2);
      return { shape: "box", half: [0.22 * s, 0.2 * s, 0.5 * s], speed: rng.uniform(0.8, 2.2), ...still };
    }
    case "ball": {
      const r = rng.uniform(0.12, 0.3);
      return { shape: "sphere", half: [r, r, r], speed: rng.uniform(0.4, 1.4), spin: 0, hopPeriod: rng.uniform(0.35, 0.8), hopHeight: rng.uniform(0.15, 0.5), hopPhase: rng.next() };
    }
    case "turner": {
      const half: Vec3 = [rng.uniform(0.15, 0.4), rng.uniform(0.2, 0.5), rng.uniform(0.3, 0.6)];
      const spin = (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.8, 2.5); // rad/s
      return { shape: "box", half, speed: rng.uniform(0, 0.25), spin, hopPeriod: 1, hopHeight: 0, hopPhase: 0 };
    }
  }
}
