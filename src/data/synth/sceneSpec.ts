/**
 * The random layout of one synthetic scene, drawn from a seed: the set (a room — a box interior with floor, four
 * walls and ceiling — or a street with ground, sky and rows of building facades), textures, light, 2–5 static
 * objects on the floor, the camera path with its frame times and intrinsics, and 0–3 movers placed where the
 * cameras see them. Everything is plain data (`SceneSpec`), so tests can inspect or edit it before rendering
 * (raycast.ts). World frame: OpenCV-like, y down, floor at y = floorY ≈ 1.5 below a camera near y = 0.
 *
 * Randomness comes from one `makeRng(seed)` forked into independent streams in a fixed order (set, cameras, static
 * objects, movers), so the movers drawn never change the static scene: the same seed with `movers: [0, 0]` renders
 * exactly the static images of the same seed with movers.
 */
import type { SynthConfig } from "../config.ts";
import { makeRng, type Rng } from "../../engine/rng.ts";
import type { Camera } from "../../geometry/cameras.ts";
import { mat4Rotation, mat4Translation, rigidInverse, transformPoint, type Vec3 } from "../../geometry/mat4.ts";
import { cameraPath, frameTimes, PATH_KINDS, type Arena, type PathKind } from "./cameraPath.ts";
import { footprintRadius, MOVER_KINDS, moverPose, randomMoverBody, type Mover, type Shape } from "./motion.ts";
import { randomPalette, randomTexture, type Palette, type Rgb, type SurfaceRole, type Texture } from "./textures.ts";

/** A box interior. Texture fields index `SceneSpec.textures`. */
export type Room = {
  kind: "room";
  /** Corners (metres): min = [x0, ceiling y, z0], max = [x1, floor y, z1]. */
  min: Vec3;
  max: Vec3;
  textures: { floor: number; ceiling: number; wallXMin: number; wallXMax: number; wallZMin: number; wallZMax: number };
};

/** A building of a street: a box from the ground up, its street-side face at |x| = halfWidth on `side`. */
export type Building = { side: -1 | 1; zMin: number; zMax: number; height: number; texture: number };

export type Street = {
  kind: "street";
  /** Half the distance between the two facade rows (m), and how deep each building is (m). */
  halfWidth: number;
  depth: number;
  buildings: Building[];
  ground: number;
  skyHorizon: Rgb;
  skyZenith: Rgb;
};

export type StaticObject = { id: number; shape: Exclude<Shape, "capsule">; centre: Vec3; yaw: number; half: Vec3; texture: number };

/** One directional light plus ambient; `dir` is the unit direction towards the light; `shadow` the blob darkness. */
export type Light = { dir: Vec3; ambient: number; diffuse: number; shadow: number };

export type SceneSpec = {
  seed: number;
  /** Image side in pixels (the cameras' intrinsics are in pixels of this size). */
  size: number;
  /** World y of the floor or ground (m, positive: below the camera). */
  floorY: number;
  env: Room | Street;
  /** Where camera centres stay (m). */
  arena: Arena;
  textures: Texture[];
  statics: StaticObject[];
  movers: Mover[];
  light: Light;
  path: PathKind;
  /** Frame times (s): t_0 = 0 and irregular gaps. */
  times: number[];
  cameras: Camera[];
  /** Seed of the sub-pixel sample jitter (drawn apart from the movers, so it does not depend on them). */
  jitterSeed: number;
};

const DEG = Math.PI / 180;

/** Draws the layout of scene `seed` (deterministic: the same seed and config give the same spec). */
export function makeSceneSpec(seed: number, cfg: SynthConfig): SceneSpec {
  const root = makeRng(seed);
  const [setRng, camRng, objRng, moverRng] = [root.fork(), root.fork(), root.fork(), root.fork()];
  const jitterSeed = Math.floor(root.next() * 4294967296);
  const textures: Texture[] = [];
  const palette = randomPalette(setRng);
  const busy = (rng: Rng) => cfg.texture === "busy" || (cfg.texture === "mixed" && rng.next() < 0.4);
  const addTexture = (rng: Rng, role: SurfaceRole, pal: Palette = palette): number => textures.push(randomTexture(rng, pal, role, busy(rng))) - 1;

  // The set.
  const floorY = setRng.uniform(1.35, 1.65);
  const isStreet = setRng.next() < 0.3;
  let env: Room | Street;
  let arena: Arena;
  let light: Light;
  if (!isStreet) {
    const [w, d, h] = [setRng.uniform(4, 8), setRng.uniform(4, 9), setRng.uniform(2.5, 3.2)];
    const [ox, oz] = [setRng.uniform(-0.3, 0.3) * w, setRng.uniform(-0.3, 0.3) * d];
    const min: Vec3 = [ox - w / 2, floorY - h, oz - d / 2];
    const max: Vec3 = [ox + w / 2, floorY, oz + d / 2];
    const wall = addTexture(setRng, "wall"); // walls often share one texture, as in real rooms
    const wallOr = () => (setRng.next() < 0.5 ? wall : addTexture(setRng, "wall"));
    env = {
      kind: "room",
      min,
      max,
      textures: { floor: addTexture(setRng, "floor"), ceiling: addTexture(setRng, "ceiling"), wallXMin: wallOr(), wallXMax: wallOr(), wallZMin: wallOr(), wallZMax: wallOr() },
    };
    arena = { xMin: min[0] + 0.6, xMax: max[0] - 0.6, zMin: min[2] + 0.6, zMax: max[2] - 0.6 };
    const dir = normalized([setRng.uniform(-0.6, 0.6), -1, setRng.uniform(-0.6, 0.6)]);
    const ambient = setRng.uniform(0.45, 0.6);
    light = { dir, ambient, diffuse: setRng.uniform(0.9, 1.05) - ambient, shadow: setRng.uniform(0.35, 0.6) };
  } else {
    const halfWidth = setRng.uniform(4, 7);
    const depth = 12;
    const buildings: Building[] = [];
    for (const side of [-1, 1] as const) {
      for (let z = -70 + setRng.uniform(0, 6); z < 70; ) {
        const len = setRng.uniform(6, 18);
        buildings.push({ side, zMin: z, zMax: z + len, height: setRng.uniform(5, 16), texture: addTexture(setRng, "facade") });
        z += len + (setRng.next() < 0.3 ? setRng.uniform(2, 5) : 0); // sometimes an alley
      }
    }
    const sunAz = setRng.uniform(0, 2 * Math.PI);
    const skyHue = setRng.uniform(0.52, 0.65);
    env = {
      kind: "street",
      halfWidth,
      depth,
      buildings,
      ground: addTexture(setRng, "ground"),
      skyHorizon: [0.75 + setRng.uniform(0, 0.15), 0.82 + setRng.uniform(0, 0.1), 0.9],
      skyZenith: skyHue < 0.58 ? [0.3, 0.55, 0.85] : [0.35, 0.45, 0.8],
    };
    arena = { xMin: -halfWidth + 0.8, xMax: halfWidth - 0.8, zMin: -12, zMax: 12 };
    const dir = normalized([Math.cos(sunAz), -setRng.uniform(0.6, 1.5), Math.sin(sunAz)]);
    const ambient = setRng.uniform(0.4, 0.55);
    light = { dir, ambient, diffuse: setRng.uniform(0.95, 1.1) - ambient, shadow: setRng.uniform(0.4, 0.65) };
  }

  // The cameras: path, times, shared intrinsics.
  const path: PathKind = cfg.path === "mixed" ? PATH_KINDS[camRng.int(PATH_KINDS.length)]! : cfg.path;
  const times = frameTimes(camRng, cfg.frames);
  const camY = camRng.uniform(-0.15, 0.15);
  const c2ws = cameraPath(camRng, path, times, arena, camY, floorY - camRng.uniform(0.3, 0.8));
  const f = camRng.uniform(cfg.focalRange[0], cfg.focalRange[1]) * cfg.size; // pixels
  const cameras: Camera[] = c2ws.map((c2w) => ({ c2w, fxfycxcy: [f, f, cfg.size / 2, cfg.size / 2] }));

  const view = meanView(cameras);
  const statics = placeStatics(objRng, env, floorY, view, cameras, () => addTexture(objRng, "object"));
  const spec: SceneSpec = { seed, size: cfg.size, floorY, env, arena, textures, statics, movers: [], light, path, times, cameras, jitterSeed };
  spec.movers = placeMovers(moverRng, cfg, spec, view, (role) => addTexture(moverRng, role, randomPalette(moverRng)));
  return spec;
}

function normalized(v: Vec3): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** Mean camera centre and mean horizontal viewing direction (unit, [x, z]) with its right-hand side. */
type MeanView = { eye: Vec3; fwd: [number, number]; side: [number, number] };

function meanView(cameras: readonly Camera[]): MeanView {
  const eye: Vec3 = [0, 0, 0];
  let [fx, fz] = [0, 0];
  for (const c of cameras) {
    const t = mat4Translation(c.c2w);
    for (let k = 0; k < 3; k++) eye[k]! += t[k]! / cameras.length;
    const r = mat4Rotation(c.c2w);
    fx += r[2]!; // camera z axis, world x
    fz += r[8]!; // camera z axis, world z
  }
  const n = Math.hypot(fx, fz) || 1;
  return { eye, fwd: [fx / n, fz / n], side: [fz / n, -fx / n] };
}

/** True when the horizontal disc (x, z, r) lies inside the set's walkable floor. */
function onFloor(env: Room | Street, x: number, z: number, r: number): boolean {
  if (env.kind === "room") return x - r > env.min[0] && x + r < env.max[0] && z - r > env.min[2] && z + r < env.max[2];
  return Math.abs(x) + r < env.halfWidth && Math.abs(z) < 30;
}

/** Horizontal distance from (x, z) to the nearest camera centre. */
function cameraDistance(cameras: readonly Camera[], x: number, z: number): number {
  return Math.min(...cameras.map((c) => Math.hypot(c.c2w[3]! - x, c.c2w[11]! - z)));
}

function placeStatics(rng: Rng, env: Room | Street, floorY: number, view: MeanView, cameras: readonly Camera[], texture: () => number): StaticObject[] {
  const count = 2 + rng.int(4); // 2–5
  const scale = env.kind === "street" ? 1.4 : 1;
  const out: StaticObject[] = [];
  for (let i = 0; i < count; i++) {
    const roll = rng.next();
    const shape: StaticObject["shape"] = roll < 0.45 ? "box" : roll < 0.7 ? "sphere" : "cylinder";
    const r = rng.uniform(0.2, 0.55) * scale;
    const box = (): Vec3 => [rng.uniform(0.2, 0.7) * scale, rng.uniform(0.2, 0.7) * scale, rng.uniform(0.2, 0.7) * scale];
    const half: Vec3 = shape === "box" ? box() : shape === "sphere" ? [r, r, r] : [r * 0.7, rng.uniform(0.25, 0.8) * scale, r * 0.7];
    const foot = footprintRadius(shape, half);
    for (let attempt = 0; attempt < 40; attempt++) {
      const inView = rng.next() < 0.8;
      const [a, b] = [rng.uniform(1.2, 5), rng.uniform(-2.2, 2.2)];
      const x = inView ? view.eye[0] + view.fwd[0] * a + view.side[0] * b : rng.uniform(-5, 5) + view.eye[0];
      const z = inView ? view.eye[2] + view.fwd[1] * a + view.side[1] * b : rng.uniform(-5, 5) + view.eye[2];
      const clear = out.every((o) => Math.hypot(o.centre[0] - x, o.centre[2] - z) > foot + footprintRadius(o.shape, o.half) + 0.1);
      if (onFloor(env, x, z, foot) && clear && cameraDistance(cameras, x, z) > foot + 0.6) {
        const centreY = floorY - (shape === "sphere" ? r : half[1]);
        out.push({ id: out.length, shape, centre: [x, centreY, z], yaw: rng.uniform(0, Math.PI), half, texture: texture() });
        break;
      }
    }
  }
  return out;
}

/** Fraction of frames whose camera (world-to-camera `w2c[i]`) sees point `p(i)` (in front, inside the image). */
function visibleFraction(cameras: readonly Camera[], w2c: readonly number[][], p: (i: number) => Vec3): number {
  let seen = 0;
  cameras.forEach((c, i) => {
    const q = transformPoint(w2c[i]!, p(i));
    if (q[2] < 0.3) return;
    const [fx, fy, cx, cy] = c.fxfycxcy;
    const [u, v] = [fx * (q[0] / q[2]) + cx, fy * (q[1] / q[2]) + cy];
    if (u > 0.05 * cx && u < 1.95 * cx && v > 0.05 * cy && v < 1.95 * cy) seen++;
  });
  return seen / cameras.length;
}

function placeMovers(rng: Rng, cfg: SynthConfig, spec: SceneSpec, view: MeanView, texture: (role: SurfaceRole) => number): Mover[] {
  const count = cfg.movers[0] + rng.int(cfg.movers[1] - cfg.movers[0] + 1);
  const duration = spec.times[spec.times.length - 1]!;
  const street = spec.env.kind === "street";
  const out: Mover[] = [];
  const w2c = spec.cameras.map((c) => rigidInverse(c.c2w));
  const background = spec.env.kind === "room" ? Object.values(spec.env.textures) : [spec.env.ground, ...spec.env.buildings.map((b) => b.texture)];
  for (let i = 0; i < count; i++) {
    const kind = MOVER_KINDS[rng.int(MOVER_KINDS.length)]!;
    const body = randomMoverBody(rng, kind, street);
    body.speed = Math.min(body.speed, 2.5 / Math.max(duration, 1e-6)); // at most 2.5 m over the clip: stays in view
    const hardCase = rng.next() < cfg.hardCaseProb;
    const tex = hardCase ? background[rng.int(background.length)]! : texture(kind === "person" ? "person" : "object");
    const foot = footprintRadius(body.shape, body.half);
    const restY = spec.floorY - (body.shape === "capsule" ? body.half[1] + body.half[0] : body.half[1]);
    let best: { mover: Mover; score: number } | null = null;
    for (let attempt = 0; attempt < 40; attempt++) {
      const [a, b] = [foot + rng.uniform(1.3, 3.8), rng.uniform(-1.2, 1.2)]; // metres ahead, to the side
      const across = Math.atan2(view.side[0], view.side[1]); // heading across the view
      const heading = across + (rng.next() < 0.5 ? 0 : Math.PI) + rng.uniform(-50, 50) * DEG;
      const anchor: Vec3 = [view.eye[0] + view.fwd[0] * a + view.side[0] * b, restY, view.eye[2] + view.fwd[1] * a + view.side[1] * b];
      const yaw = kind === "car" ? heading : rng.uniform(0, Math.PI);
      const mover: Mover = { id: spec.statics.length + i, kind, ...body, texture: tex, hardCase, anchor, tMid: duration * rng.uniform(0.35, 0.65), heading, yaw };
      const centre = (k: number) => moverPose(mover, spec.times[k]!).centre;
      const ok = spec.times.every((_, k) => {
        const [x, , z] = centre(k);
        const cam = spec.cameras[k]!.c2w;
        return (
          onFloor(spec.env, x, z, foot) &&
          Math.hypot(cam[3]! - x, cam[11]! - z) > foot + 0.6 &&
          spec.statics.every((o) => Math.hypot(o.centre[0] - x, o.centre[2] - z) > foot + footprintRadius(o.shape, o.half)) &&
          out.every((m) => {
            const c = moverPose(m, spec.times[k]!).centre;
            return Math.hypot(c[0] - x, c[2] - z) > foot + footprintRadius(m.shape, m.half);
          })
        );
      });
      const score = (ok ? 1 : 0) + visibleFraction(spec.cameras, w2c, centre);
      if (best === null || score > best.score) best = { mover, score };
      if (score >= 1.75) break;
    }
    out.push(best!.mover);
  }
  return out;
}
