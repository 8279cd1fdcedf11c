/**
 * Typed configuration of the data side. `SynthConfig` drives the procedural dynamic-scene generator
 * (src/data/synth/): image size, clip length, how many moving objects, which camera path, how busy the textures
 * are. Written as a strict zod schema with the type derived from it (the README's layout notes), plus the named presets and the
 * seed range reserved for held-out evaluation. Why the presets use smooth textures and randomised paths:
 * docs/METHOD.md ("Small-model training") (busy textures pin a small model to the mean image; regular paths let it read the pose from
 * the view index).
 */
import { z } from "zod";

/**
 * Seeds at or above this number are the held-out evaluation range: training draws its scene seeds from
 * [0, HELD_OUT_SEED_START) and never uses these, so evaluation scenes are never seen in training. Any seed in
 * [HELD_OUT_SEED_START, 2^32) is valid for `generateScene` (only its low 32 bits are used by the PRNG).
 */
export const HELD_OUT_SEED_START = 1_000_000_000;

const isPerfectSquare = (n: number): boolean => Number.isInteger(Math.sqrt(n));

export const SynthConfigSchema = z.strictObject({
  /** Square image side in pixels. */
  size: z.union([z.literal(32), z.literal(64), z.literal(128), z.literal(256)]),
  /** Frames per scene (≥ 2: a sample needs at least one input and one target). */
  frames: z.int().min(2).max(4096),
  /** [min, max] moving objects per scene, drawn uniformly per scene. */
  movers: z
    .tuple([z.int().min(0).max(3), z.int().min(0).max(3)])
    .refine(([lo, hi]) => lo <= hi, { message: "movers must be [min, max] with min ≤ max" }),
  /** Camera path family; "mixed" picks one of the others per scene. */
  path: z.enum(["walk", "pan", "jitter", "orbit", "mixed"]),
  /** Texture frequency: "smooth" (solid, gradients, wide bands, panels), "busy" (checkers, noise, stripes), "mixed". */
  texture: z.enum(["smooth", "mixed", "busy"]),
  /** [lo, hi] range of the horizontal focal length as a fraction of the width (fx / W); drawn per scene. */
  focalRange: z
    .tuple([z.number().positive(), z.number().positive()])
    .refine(([lo, hi]) => lo <= hi, { message: "focalRange must be [lo, hi] with lo ≤ hi" })
    .default([1.0, 1.3]),
  /** Anti-aliasing samples per pixel: a jittered n × n stratified grid, so a perfect square (1 = pixel centres). */
  samplesPerPixel: z.int().min(1).max(64).refine(isPerfectSquare, { message: "samplesPerPixel must be a perfect square (1, 4, 9, 16, …)" }).default(4),
  /** Blob shadows of moving objects on the floor (observed images only; never in the static image). */
  moverShadows: z.boolean().default(true),
  /** Probability that a moving object copies a background texture (the hard case for motion masks). */
  hardCaseProb: z.number().min(0).max(1).default(0.2),
});

export type SynthConfig = z.infer<typeof SynthConfigSchema>;

/** `small`: the demo and benchmark size (64², 8 frames, as docs/METHOD.md ("Small-model training") best setting grown to 64²). */
const SMALL: SynthConfig = {
  size: 64, // pixels per side
  frames: 8, // frames per scene
  movers: [1, 2], // moving objects per scene, [min, max]
  path: "mixed", // walk / pan / jitter / orbit chosen per scene, so the view index never gives the pose away
  texture: "smooth", // low-frequency textures (docs/METHOD.md ("Small-model training") study 2)
  focalRange: [1.0, 1.3], // fx / W, ≈ 42°–53° horizontal field of view
  samplesPerPixel: 4, // 2 × 2 jittered grid
  moverShadows: true,
  hardCaseProb: 0.2, // probability per mover of a background texture
};

export const SYNTH_PRESETS = {
  tiny: { ...SMALL, size: 32, frames: 6 }, // tests and docs/METHOD.md ("Small-model training") study 2's 32², 6-frame scenes
  small: SMALL,
  paper: { ...SMALL, size: 256, frames: 8 }, // the paper's 256² working size
} satisfies Record<string, SynthConfig>;

export type SynthPreset = keyof typeof SYNTH_PRESETS;
