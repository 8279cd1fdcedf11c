/**
 * `generateScene(seed, cfg)`: one procedural dynamic scene with full ground truth — per frame the observed image,
 * the clean static image (movers and their shadows removed), the motion mask, z-depth and the camera — as the
 * `Scene` every reader produces (src/data/scene.ts), plus the layout for tests and diagnostics (`SynthScene`).
 * Deterministic: the same seed and config give bit-identical arrays. Seeds ≥ HELD_OUT_SEED_START (config.ts) are
 * reserved for held-out evaluation. Layout: sceneSpec.ts; rendering: raycast.ts.
 */
import type { SynthConfig } from "../config.ts";
import type { Frame, Scene } from "../scene.ts";
import { userAssert } from "../../engine/errors.ts";
import type { Vec3 } from "../../geometry/mat4.ts";
import { moverPose, type MoverKind, type Shape } from "./motion.ts";
import { packScene } from "./pack.ts";
import { renderFrame, type RenderOptions } from "./raycast.ts";
import { makeSceneSpec, type SceneSpec } from "./sceneSpec.ts";

/** A frame with every ground-truth field present. */
export type SynthFrame = Frame & Required<Pick<Frame, "static" | "mask" | "depth" | "camera">>;

/** One object of the scene and where it is in every frame (static objects have the same centre in all). */
export type SynthObject = {
  /** Id used in `truth[i].ids` (static objects first, then movers). */
  id: number;
  kind: "static" | MoverKind;
  shape: Shape;
  moving: boolean;
  /** Half-extents (box), radius (sphere) or radius and half-height (cylinder, capsule), metres. */
  half: Vec3;
  /** True for a mover wearing a background texture. */
  hardCase: boolean;
  /** World centre per frame. */
  centres: Vec3[];
  /** Yaw per frame (radians about the vertical axis). */
  yaws: number[];
};

/** Per-frame diagnostics beyond `Frame`. */
export type SynthTruth = {
  /** [h, w] id of the object the centre sample sees (the pixel centre when samplesPerPixel = 1); −1 for the set. */
  ids: Int16Array;
  /** [h, w] 1 where any sample saw a mover or a mover's shadow; image and static are identical elsewhere. */
  touched: Uint8Array;
};

export type SynthScene = Omit<Scene, "frames"> & {
  frames: SynthFrame[];
  seed: number;
  config: SynthConfig;
  /** The full random layout (set, textures, light, objects, path, times). */
  spec: SceneSpec;
  objects: SynthObject[];
  truth: SynthTruth[];
};

/** Generates scene `seed` (an integer in [0, 2^32)) with `cfg`. */
export function generateScene(seed: number, cfg: SynthConfig): SynthScene {
  userAssert(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32, `synth: seed must be an integer in [0, 2^32), got ${seed}`);
  return renderSpec(makeSceneSpec(seed, cfg), cfg);
}

/** Renders every frame of a (possibly edited) layout. Tests use it to change a spec before rendering. */
export function renderSpec(spec: SceneSpec, cfg: SynthConfig): SynthScene {
  const packed = packScene(spec);
  const opts: RenderOptions = { samplesPerPixel: cfg.samplesPerPixel, moverShadows: cfg.moverShadows };
  const frames: SynthFrame[] = [];
  const truth: SynthTruth[] = [];
  spec.cameras.forEach((camera, i) => {
    const r = renderFrame(packed, i, opts);
    frames.push({
      name: String(i).padStart(5, "0"),
      image: r.image,
      static: r.static,
      mask: r.mask,
      depth: r.depth,
      camera: { c2w: [...camera.c2w], fxfycxcy: [...camera.fxfycxcy] },
    });
    truth.push({ ids: r.ids, touched: r.touched });
  });
  const objects: SynthObject[] = [
    ...spec.statics.map((o) => ({
      id: o.id,
      kind: "static" as const,
      shape: o.shape,
      moving: false,
      half: o.half,
      hardCase: false,
      centres: spec.times.map(() => [...o.centre] as Vec3),
      yaws: spec.times.map(() => o.yaw),
    })),
    ...spec.movers.map((m) => ({
      id: m.id,
      kind: m.kind,
      shape: m.shape,
      moving: true,
      half: m.half,
      hardCase: m.hardCase,
      centres: spec.times.map((t) => moverPose(m, t).centre),
      yaws: spec.times.map((t) => moverPose(m, t).yaw),
    })),
  ];
  return { name: `synth_${spec.seed}`, h: spec.size, w: spec.size, frames, seed: spec.seed, config: cfg, spec, objects, truth };
}
