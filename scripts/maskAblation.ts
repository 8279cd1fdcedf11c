/**
 * The pseudo-mask ablation (RESULTS.md): every stage of src/masks switched on and off, measured as mean IoU against
 * the generator's true motion masks on held-out synthetic dynamic scenes at 64², with the stand-in renderer (the
 * clean static frame) at each degradation level. The backbone is the bundled MobileNetV2, stride-4 tap (16×16 grid).
 * With `--model FILE` it instead uses that trained RayZer as the renderer: each held-out sample's targets rendered
 * from its two inputs at the model's size (32² for the shipped model: an 8×8 grid), scenes with 1–2 movers. The last
 * row is the classical baseline, which needs no renderer: camera-compensated frame differencing + GrabCut
 * (src/pipeline/differencing.ts) on the same scenes' frames.
 *
 *   node --import tsx --import ./src/engine/workerAdapter.ts scripts/maskAblation.ts [--scenes 50] [--out DIR] [--model FILE]
 *
 * Writes DIR/mask-ablation[-model].json and .md (default DIR: bench/results) atomically, prints the table.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEngine } from "../src/engine/backend.ts";
import { writeFileAtomic } from "../src/engine/files.ts";
import { HELD_OUT_SEED_START, SYNTH_PRESETS, SynthConfigSchema } from "../src/data/config.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../src/features/mobilenetV2.ts";
import { DEGRADATION_LEVELS, evaluateModelPseudoMasks, evaluatePseudoMasks } from "../src/eval/pseudoMaskEval.ts";
import { loadModel } from "../src/model/loadFile.ts";
import { meanIou } from "../src/pipeline/pseudoLabels.ts";
import { generateScene } from "../src/data/synth/index.ts";
import { differencingMasks } from "../src/pipeline/differencing.ts";
import { DEFAULT_PSEUDO, OFFICIAL_PSEUDO, type PseudoMaskOptions } from "../src/masks/pipeline.ts";

const { values } = parseArgs({ options: { scenes: { type: "string", default: "50" }, out: { type: "string", default: "bench/results" }, model: { type: "string" } } });
const scenes = Number(values.scenes);
const noGrabcut = { refine: { ...DEFAULT_PSEUDO.refine, grabcut: false } };
const alone = { vote: false, mseBlur: 0 };
const VARIANTS: Record<string, Partial<PseudoMaskOptions>> = {
  "colour residual (raw squared error), z ≥ 2, morphology only": { ...alone, evidence: "mse", ...noGrabcut },
  "colour residual (raw squared error), z ≥ 2, + GrabCut": { ...alone, evidence: "mse" },
  "SSIM only (7×7), z ≥ 2, + GrabCut": { ...alone, evidence: "ssim" },
  "features only (MobileNetV2 stride 4), z ≥ 2, + GrabCut": { ...alone, evidence: "features" },
  "colour residual (σ = 1 px blur) only, + vote + GrabCut": { evidence: "mse" },
  "SSIM only, + vote + GrabCut": { evidence: "ssim" },
  "features only, + vote + GrabCut": { evidence: "features" },
  "fused, no vote, morphology only": { vote: false, ...noGrabcut },
  "fused, no vote, + GrabCut": { vote: false },
  "fused + vote, morphology only": { ...noGrabcut },
  "**fused + vote + GrabCut (ours, DEFAULT_PSEUDO)**": {},
  "ours, per-frame z-scores (official)": { standardise: "frame" },
  "ours, fusing features + SSIM only (0.5 / 0.5)": { weights: { feat: 0.5, ssim: 0.5, mse: 0 } },
  "ours, k-means on features (official) instead of colour": { descriptor: { features: 1, colour: 0 } },
  "ours, the official vote rule (top 5 % of clusters, ≥ 4 frames, patch = cluster)": { voteOptions: OFFICIAL_PSEUDO.voteOptions },
  "the official settings throughout, docs/METHOD.md §5 (OFFICIAL_PSEUDO)": OFFICIAL_PSEUDO,
};

await startEngine({ device: "wasm" });
const fx = await loadMobilenetV2();
if (values.model) {
  const { params, meta } = loadModel(values.model);
  const data = SynthConfigSchema.parse({ ...meta.data, movers: [1, 2] });
  const seeds = Array.from({ length: scenes }, (_, i) => HELD_OUT_SEED_START + 20_000 + i);
  const r = await evaluateModelPseudoMasks(params, meta.model, data, fx, { name: MOBILENET_TAPS.stride4, stride: 4 }, { seeds, variants: VARIANTS });
  const md = [
    `mIoU against the true motion masks, ${scenes} held-out scenes × ${meta.model.views - meta.model.inputViews} targets, ${data.size}², renderer ${values.model} (step ${meta.step}).`,
    "",
    "| variant | mIoU |",
    "|---|---:|",
    ...Object.keys(VARIANTS).map((k) => `| ${k} | ${r[k]!.miou.toFixed(3)} |`),
    "",
  ].join("\n");
  writeFileAtomic(join(values.out!, "mask-ablation-model.json"), JSON.stringify({ scenes, size: data.size, model: values.model, step: meta.step, results: r }, null, 2) + "\n");
  writeFileAtomic(join(values.out!, "mask-ablation-model.md"), md);
  process.stdout.write(md);
  process.exit(0);
}
const data = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: 64, frames: 6, movers: [1, 2] });
const tap = { name: MOBILENET_TAPS.stride4, stride: 4 };
const results: Record<string, Record<string, { miou: number; frames: number; msPerFrame: number }>> = {};
const t0 = performance.now();
for (const level of DEGRADATION_LEVELS) {
  results[level.name] = await evaluatePseudoMasks(fx, tap, data, { scenes, level, variants: VARIANTS });
  process.stderr.write(`${level.name} done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
}
fx.dispose();
// the classical baseline needs no renderer (so no degradation level): the same scenes' frames, each aligned to its
// neighbours (spacing 1: these are the generator's sparse frames), differenced, thresholded, refined by GrabCut
const BASELINE = "camera-compensated differencing + GrabCut (baseline, no renderer)";
{
  let iou = 0;
  let frames = 0;
  let ms = 0;
  for (let i = 0; i < scenes; i++) {
    const scene = generateScene(HELD_OUT_SEED_START + 20_000 + i, data);
    const clip = { frames: scene.frames.map((f) => f.image), h: data.size, w: data.size };
    const t1 = performance.now();
    const masks = await differencingMasks(clip, clip.frames.map((_, j) => j), { spacing: 1 });
    ms += performance.now() - t1;
    iou += meanIou(masks, scene.frames.map((f) => f.mask)) * masks.length;
    frames += masks.length;
  }
  for (const level of DEGRADATION_LEVELS) results[level.name]![BASELINE] = { miou: iou / frames, frames, msPerFrame: ms / frames };
}
const levels = DEGRADATION_LEVELS.map((l) => l.name);
const lines = [
  `| variant | ${levels.join(" | ")} | ms/frame |`,
  `|---|${levels.map(() => "---:").join("|")}|---:|`,
  ...[...Object.keys(VARIANTS), BASELINE].map((k) => `| ${k} | ${levels.map((l) => results[l]![k]!.miou.toFixed(3)).join(" | ")} | ${(levels.reduce((a, l) => a + results[l]![k]!.msPerFrame, 0) / levels.length).toFixed(0)} |`),
];
const md = `mIoU against the true motion masks, ${scenes} held-out scenes × 6 frames per level, 64², stand-in renderer.\n\n${lines.join("\n")}\n`;
writeFileAtomic(join(values.out!, "mask-ablation.json"), JSON.stringify({ scenes, size: 64, tap: tap.name, levels: DEGRADATION_LEVELS, results }, null, 2) + "\n");
writeFileAtomic(join(values.out!, "mask-ablation.md"), md);
process.stdout.write(md);
