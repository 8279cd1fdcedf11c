/**
 * Training batches on the host: step `step`'s samples are a pure function of the run, the step and (when training
 * on footage) the clips, so a resumed run sees exactly the batches it would have seen.
 */
import { WildrayzerError } from "../engine/errors.ts";
import { makeRng } from "../engine/rng.ts";
import { HELD_OUT_SEED_START } from "../data/config.ts";
import { packBatch, randomClipWindow, selectViews, windowOrder, type HostBatch } from "../data/sampling.ts";
import { generateScene } from "../data/synth/index.ts";
import { readClips } from "../data/readers/index.ts";
import type { Clip } from "../data/clip.ts";
import type { Scene } from "../data/scene.ts";
import { trainSeedBase, type RunConfig } from "./config.ts";

/**
 * The host batch of training step `step`: a pure function of (run, step) — and of `clips` when the run trains on
 * footage (`run.dataDir`): then sample i draws a clip and a window of `views` consecutive frames from the seeded
 * generator of its training seed, inputs at the window ends and the targets between in shuffled order, as for
 * generated scenes.
 */
export function trainBatch(run: RunConfig, step: number, clips: readonly Scene[] | null = null): HostBatch {
  if (!clips && trainSeedBase(run.train) + (step + 1) * run.train.batch > HELD_OUT_SEED_START) {
    throw new WildrayzerError(`train.seed ${run.train.seed}: step ${step} would draw held-out scenes (seeds ≥ ${HELD_OUT_SEED_START}); use a smaller train.seed`);
  }
  return trainSamples(run, Array.from({ length: run.train.batch }, (_, i) => step * run.train.batch + i), clips);
}

/** The training samples of the given indices (sample j uses the training seed seed·1e6 + j), packed as one batch. */
export function trainSamples(run: RunConfig, indices: readonly number[], clips: readonly Scene[] | null = null): HostBatch {
  const { views, inputViews } = run.model;
  const scenes = [];
  const orders = [];
  for (const index of indices) {
    const seed = trainSeedBase(run.train) + index;
    if (clips) {
      const rng = makeRng(seed ^ 0x5eed);
      const clip = clips[rng.int(clips.length)]!;
      scenes.push(clip);
      orders.push(windowOrder(randomClipWindow(rng, clip.frames.length, views, inputViews)));
      continue;
    }
    const scene = generateScene(seed, run.data);
    scenes.push(scene);
    orders.push(windowOrder(selectViews(makeRng(seed ^ 0x5eed), scene.frames.length, inputViews, views)));
  }
  return packBatch(scenes, orders);
}

/** The clips of `run.dataDir` at the model's size, each with at least the model's views; null for generated data. */
export async function loadTrainClips(run: RunConfig): Promise<Clip[] | null> {
  if (!run.dataDir) return null;
  const clips = await readClips(run.dataDir, { size: run.model.imageSize });
  for (const c of clips)
    if (c.frames.length < run.model.views) throw new WildrayzerError(`${c.source}: ${c.frames.length} frames, training samples need ${run.model.views}`);
  return clips;
}

