/**
 * The training data set: synthetic dynamic scenes generated on the fly from seeds (src/data/synth/), nothing on
 * disk. Scene `i` of a split is `generateScene(seed(i), cfg)`, so the same index always gives the same scene.
 *
 * Splits are seed ranges (src/data/config.ts): `train` uses seeds `seedStart + i` below `HELD_OUT_SEED_START`
 * (`seedStart` defaults to 0) and throws rather than step into the held-out range; `heldout` uses seeds from
 * `HELD_OUT_SEED_START` on (`seedStart` defaults to it and may not be lower). Evaluation uses only held-out
 * seeds, so no evaluation scene is ever seen in training.
 *
 * A small LRU cache keeps the last few scenes, since a training step often revisits a scene (another target
 * split). Cached scenes are shared: callers must not modify their arrays.
 */
import { WildrayzerError } from "../engine/errors.ts";
import { HELD_OUT_SEED_START, type SynthConfig } from "./config.ts";
import type { Scene } from "./scene.ts";
import { generateScene } from "./synth/index.ts";

export type SynthSplit = "train" | "heldout";

export type SynthDatasetOptions = {
  cfg: SynthConfig;
  split: SynthSplit;
  /** Seed of scene 0: default 0 for `train`, `HELD_OUT_SEED_START` for `heldout`. */
  seedStart?: number;
  /** Scenes kept in memory (default 8). */
  cacheSize?: number;
  /** The generator; tests pass a fake, everything else uses the default. */
  generate?: (seed: number, cfg: SynthConfig) => Scene;
};

export type SynthDataset = {
  readonly cfg: SynthConfig;
  readonly split: SynthSplit;
  readonly seedStart: number;
  /** The seed of scene `i`; throws a `WildrayzerError` when a train seed would reach the held-out range. */
  seed(i: number): number;
  /** Scene `i` (generated, or from the cache; do not modify it). */
  scene(i: number): Scene;
};

/** Largest seed + 1: the generator's PRNG uses the low 32 bits, so seeds stay in [0, 2^32). */
const SEED_END = 2 ** 32;

/** An endless, deterministic data set of synthetic scenes for one split (see the file header). */
export function makeSynthDataset(opts: SynthDatasetOptions): SynthDataset {
  const { cfg, split, cacheSize = 8, generate = generateScene } = opts;
  const seedStart = opts.seedStart ?? (split === "train" ? 0 : HELD_OUT_SEED_START);
  const [lo, hi] = split === "train" ? [0, HELD_OUT_SEED_START] : [HELD_OUT_SEED_START, SEED_END];
  if (!Number.isInteger(seedStart) || seedStart < lo || seedStart >= hi) {
    throw new WildrayzerError(`${split} seeds must lie in [${lo}, ${hi}), got seedStart ${seedStart}`);
  }
  const cache = new Map<number, Scene>(); // seed → scene, oldest first

  const seed = (i: number): number => {
    if (!Number.isInteger(i) || i < 0) throw new Error(`scene index must be a non-negative integer, got ${i}`); // a caller bug
    const s = seedStart + i;
    if (s >= hi) {
      const why = split === "train" ? "would reach the held-out seeds" : "is past the last 32-bit seed";
      throw new WildrayzerError(`${split} scene ${i}: seed ${s} ${why} (${split} seeds must stay below ${hi})`);
    }
    return s;
  };

  return {
    cfg,
    split,
    seedStart,
    seed,
    scene(i) {
      const s = seed(i);
      const scene = cache.get(s) ?? generate(s, cfg);
      cache.delete(s); // re-inserted below: the most recently used goes last
      if (cacheSize > 0) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!); // evict the least recently used
        cache.set(s, scene);
      }
      return scene;
    },
  };
}
