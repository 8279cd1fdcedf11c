/**
 * Full-frame pseudo-masks with the warp static renderer against the camera-compensated differencing baseline
 * (RESULTS.md, "the warp renderer"): mean IoU against true masks on held-out synthetic video clips (pan and jitter
 * camera paths, 128², src/eval/warpMaskEval.ts) and on a real clip with masks (DAVIS-style frames/ + masks/).
 * `--train` uses training seeds (9100 + i) instead, for tuning; `--variants JSON` adds named method variants
 * ({"name": {"warp": {...}, "frame": {...}, "pseudo": {...}} or {"diff": {...}}}).
 *
 *   node --import tsx --import ./src/engine/workerAdapter.ts scripts/warpMasks.ts [--scenes 8] [--real DIR] [--max-frames 48] [--paths pan,jitter] [--out DIR]
 *
 * Writes DIR/warp-masks.json and .md (default DIR: bench/results) atomically, prints the table.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEngine } from "../src/engine/backend.ts";
import { writeFileAtomic } from "../src/engine/files.ts";
import { HELD_OUT_SEED_START, SYNTH_PRESETS, SynthConfigSchema } from "../src/data/config.ts";
import { readClip } from "../src/data/readers/index.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../src/features/mobilenetV2.ts";
import { evaluateSynthMasks, meanFrameIou, type ClipMasker } from "../src/eval/warpMaskEval.ts";
import { DEFAULT_FRAME_MASKS, rendererPseudoMasks, type FrameMaskOptions } from "../src/pipeline/frameMasks.ts";
import { differencingMasks, type DifferencingOptions } from "../src/pipeline/differencing.ts";
import { warpRenderer, type WarpOptions } from "../src/pipeline/warpRenderer.ts";
import type { PseudoMaskOptions } from "../src/masks/pipeline.ts";

const { values } = parseArgs({
  options: {
    scenes: { type: "string", default: "8" },
    sub: { type: "string", default: "3" },
    size: { type: "string", default: "128" },
    paths: { type: "string", default: "pan,jitter" },
    real: { type: "string" },
    "max-frames": { type: "string", default: "48" },
    train: { type: "boolean", default: false },
    variants: { type: "string" },
    out: { type: "string", default: "bench/results" },
  },
});
type Variant = { warp?: Partial<WarpOptions>; frame?: Partial<FrameMaskOptions>; pseudo?: Partial<PseudoMaskOptions>; diff?: Partial<DifferencingOptions> };
const variants: Record<string, Variant> = values.variants
  ? (JSON.parse(values.variants) as Record<string, Variant>)
  : { "warp renderer + pipeline (ours)": {}, "camera-compensated differencing + GrabCut (baseline)": { diff: {} } };

await startEngine({ device: "wasm" });
const fx = await loadMobilenetV2();
const tap = { name: MOBILENET_TAPS.stride4, stride: 4 };
const methods: Record<string, ClipMasker> = Object.fromEntries(
  Object.entries(variants).map(([k, v]) => [
    k,
    v.diff
      ? (clip) => differencingMasks(clip, clip.frames.map((_, i) => i), v.diff)
      : async (clip) => (await rendererPseudoMasks(clip, warpRenderer(v.warp), fx, tap, { ...v.frame, pseudo: { ...(v.frame?.pseudo ?? DEFAULT_FRAME_MASKS.pseudo), ...v.pseudo } })).masks,
  ]),
);
const rows: Record<string, Record<string, { miou: number; frames: number; msPerFrame: number }>> = {};
const scenes = Number(values.scenes);
const t0 = performance.now();
for (const path of values.paths!.split(",").filter(Boolean)) {
  const cfg = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: Number(values.size), frames: 6, movers: [1, 2], path });
  const seeds = Array.from({ length: scenes }, (_, i) => (values.train ? 9100 : HELD_OUT_SEED_START + 40_000) + i);
  rows[`synthetic ${path}`] = await evaluateSynthMasks(cfg, methods, { seeds, sub: Number(values.sub) });
  process.stderr.write(`${path} done (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
}
if (values.real) {
  const clip = await readClip(values.real, { size: 64, native: true, maxFrames: Number(values["max-frames"]) });
  const stack = { frames: clip.frames.map((f) => f.image), h: clip.h, w: clip.w };
  const truth = clip.frames.map((f) => f.mask ?? new Uint8Array(clip.h * clip.w));
  const r: Record<string, { miou: number; frames: number; msPerFrame: number }> = {};
  for (const [k, m] of Object.entries(methods)) {
    const t1 = performance.now();
    const masks = await m(stack);
    r[k] = { miou: meanFrameIou(masks, truth), frames: masks.length, msPerFrame: (performance.now() - t1) / masks.length };
  }
  rows[`${clip.name} (${clip.w}×${clip.h}, ${clip.frames.length} frames)`] = r;
}
fx.dispose();
const cols = Object.keys(rows);
const synthNote = values.paths ? `synthetic: ${scenes} ${values.train ? "training" : "held-out"} scenes per path, ${values.size}², 6 generated frames densified ×${values.sub} (pan); ` : "";
const md = [
  `mIoU against true masks; ${synthNote}ms/frame on this machine.`,
  "",
  `| method | ${cols.join(" | ")} | ms/frame |`,
  `|---|${cols.map(() => "---:").join("|")}|---:|`,
  ...Object.keys(variants).map((k) => `| ${k} | ${cols.map((c) => rows[c]![k]!.miou.toFixed(3)).join(" | ")} | ${(cols.reduce((a, c) => a + rows[c]![k]!.msPerFrame, 0) / cols.length).toFixed(0)} |`),
  "",
].join("\n");
writeFileAtomic(join(values.out!, "warp-masks.json"), JSON.stringify({ scenes, size: Number(values.size), sub: Number(values.sub), train: values.train, variants, rows }, null, 2) + "\n");
writeFileAtomic(join(values.out!, "warp-masks.md"), md);
process.stdout.write(md);
process.exit(0);
