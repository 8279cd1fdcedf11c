/**
 * `train --method wildrayzer`: the three stages in one resumable command (docs/METHOD.md §8), each in its own run folder under `outDir` (stage1/, stage2/, stage3/), each starting from the
 * previous stage's checkpoint. A finished stage (its checkpoint at its last step) is skipped; with `resume` an
 * interrupted stage continues exactly where it stopped, as a single-stage run does.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readModelFile } from "../model/loadFile.ts";
import { MASK_TAP_CHANNELS } from "../pipeline/pseudoLabels.ts";
import { readCheckpointMeta } from "./checkpoint.ts";
import { resolveRunConfig, resolveStage2Run, resolveStage3Run, type RunConfig } from "./config.ts";
import { CHECKPOINT_FILE, trainStage1, trainStage2, trainStage3, type TrainOptions, type TrainProgress, type TrainResult } from "./loop.ts";

export type MethodOptions = {
  /** Stage-1 run preset (tiny or small); stages 2 and 3 are sized from the stage-1 model. */
  preset: string;
  outDir: string;
  resume: boolean;
  /** `key=value` overrides applied to every stage (e.g. train.seed=1). */
  overrides?: readonly string[];
  /** Total steps of stages 1, 2, 3 (default: each stage's preset). */
  steps?: readonly [number, number, number];
  onBanner?: (stage: 1 | 2 | 3, banner: string) => void;
  onStart?: (stage: 1 | 2 | 3, run: RunConfig) => void;
  onProgress?: (stage: 1 | 2 | 3, p: TrainProgress) => void;
  /** Told when a stage is already complete on disk and skipped. */
  onSkip?: (stage: 1 | 2 | 3, checkpoint: string) => void;
  /** Stop stage `stage` after step `step` (exclusive), as if killed there; tests only. */
  stopAt?: { stage: 1 | 2 | 3; step: number };
};

export type MethodResult = { results: (TrainResult | null)[]; checkpoint: string };

/** The folder of stage `s` under the method's run folder. */
export const stageDir = (outDir: string, s: 1 | 2 | 3) => join(outDir, `stage${s}`);

function stepsOverride(opts: MethodOptions, s: 1 | 2 | 3): string[] {
  return [...(opts.overrides ?? []), ...(opts.steps ? [`train.steps=${opts.steps[s - 1]}`] : [])];
}

/** Whether the checkpoint at `path` reached its run's last step. */
function finished(path: string): boolean {
  if (!existsSync(path)) return false;
  const { meta } = readCheckpointMeta(path);
  return meta.step >= meta.run.train.steps;
}

export async function trainMethod(opts: MethodOptions): Promise<MethodResult> {
  const results: (TrainResult | null)[] = [];
  const runs: Record<1 | 2 | 3, () => RunConfig> = {
    1: () => resolveRunConfig(opts.preset, stepsOverride(opts, 1)),
    2: () => {
      const from = join(stageDir(opts.outDir, 1), CHECKPOINT_FILE);
      const { meta } = readModelFile(from);
      return resolveStage2Run(from, meta.model, meta.data, { labels: "pseudo", features: true, featureChannels: MASK_TAP_CHANNELS, overrides: stepsOverride(opts, 2) });
    },
    3: () => {
      const from = join(stageDir(opts.outDir, 2), CHECKPOINT_FILE);
      const { meta } = readModelFile(from);
      return resolveStage3Run(from, meta.model, meta.data, {}, stepsOverride(opts, 3));
    },
  };
  const trainers = { 1: trainStage1, 2: trainStage2, 3: trainStage3 };
  for (const s of [1, 2, 3] as const) {
    const dir = stageDir(opts.outDir, s);
    const ckpt = join(dir, CHECKPOINT_FILE);
    const run = runs[s]();
    if (opts.resume && finished(ckpt)) {
      const { meta } = readCheckpointMeta(ckpt);
      if (meta.run.train.steps === run.train.steps) {
        opts.onSkip?.(s, ckpt);
        results.push(null);
        continue;
      }
    }
    opts.onStart?.(s, run);
    const stageOpts: TrainOptions = {
      run,
      outDir: dir,
      resume: opts.resume,
      onBanner: (b) => opts.onBanner?.(s, b),
      onProgress: (p) => opts.onProgress?.(s, p),
      ...(opts.stopAt?.stage === s ? { stopAfter: opts.stopAt.step } : {}),
    };
    const result = await trainers[s](stageOpts);
    results.push(result);
    if (opts.stopAt?.stage === s) return { results, checkpoint: ckpt };
  }
  return { results, checkpoint: join(stageDir(opts.outDir, 3), CHECKPOINT_FILE) };
}
