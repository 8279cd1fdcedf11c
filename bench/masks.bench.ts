/**
 * The pseudo-mask pipeline (src/masks) on one sample of 6 frames at 64² with the stand-in renderer (moderate
 * degradation), from patch features to final masks: dissimilarity maps, z-scores, fusion, k-means and the vote, then
 * morphology and GrabCut per frame (OpenCV.js). Host code, so no FLOP count; ms per frame = ms / 6. The backbone's
 * cost is the `mobilenet features` rows of features.bench.ts (it runs on targets and renders).
 */
import { SYNTH_PRESETS, SynthConfigSchema, HELD_OUT_SEED_START } from "../src/data/config.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../src/features/mobilenetV2.ts";
import { DEGRADATION_LEVELS, standInInputs } from "../src/eval/pseudoMaskEval.ts";
import { DEFAULT_PSEUDO, OFFICIAL_PSEUDO, pseudoMasks, type PseudoMaskOptions } from "../src/masks/pipeline.ts";
import { loadOpenCv } from "../src/masks/refine.ts";
import { runBenchFile, type BenchCase, type Prepared } from "./harness.ts";

const pipelineCase = (label: string, options: PseudoMaskOptions): BenchCase => ({
  name: `pseudo-masks ${label}`,
  shape: "6 frames 64²",
  gflop: 0,
  reps: { full: 7, quick: 2 },
  warmup: { full: 1, quick: 1 },
  async setup(): Promise<Prepared> {
    await loadOpenCv();
    const fx = await loadMobilenetV2();
    const data = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: 64, frames: 6, movers: [1, 2] });
    const { input } = await standInInputs(fx, { name: MOBILENET_TAPS.stride4, stride: 4 }, data, HELD_OUT_SEED_START + 30_000, DEGRADATION_LEVELS[2]);
    fx.dispose();
    return { call: async () => (await pseudoMasks(input, options), []), teardown: () => {} };
  },
});

await runBenchFile("masks", [pipelineCase("ours", DEFAULT_PSEUDO), pipelineCase("official", OFFICIAL_PSEUDO)]);
