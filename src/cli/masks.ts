/**
 * `wildrayzer masks [--pseudo] --input PATH --out DIR [--renderer warp|model] [--ckpt C] [--debug]`: pseudo-motion
 * masks of real footage or a scene folder, from what a static renderer cannot re-render (src/masks). `--renderer
 * warp` (the default: better on real footage, README) is warpMasks.ts, at the input's full size; `--renderer model`
 * is a trained static RayZer at its working size (src/pipeline/clipMasks.ts), below. Writes, all atomically:
 *   DIR/<frame>.png     one mask per frame at the input frame's size, 0 = static, 255 = moving (pixels the working
 *                       crop cut away are 0)
 *   DIR/masks.json      settings, windows, per-frame coverage (and IoU against the clip's own masks, when it has them)
 *   DIR/debug.html      with --debug: every stage of every window side by side (+ DIR/debug_files/)
 * `--estimator` alone writes the motion estimator's masks (a stage-2/3 model; src/pipeline/motion.ts); by default (neither
 * flag, or both) the masks are the union of the warp pseudo-masks and the estimator's (warpMasks.ts).
 * With `--renderer model` a stage-3 model renders from its masked input tokens (`--token-masks`, default by the
 * stage rule: src/pipeline/maskedInputs.ts).
 */
import { join } from "node:path";
import { Option, type Command } from "commander";
import { startEngine } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { dispose } from "../engine/params.ts";
import { uncropMask } from "../data/crop.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../features/mobilenetV2.ts";
import { clipPseudoMasks, maskWindows } from "../pipeline/clipMasks.ts";
import { maskDebugSections } from "../eval/maskReport.ts";
import { buildReport, writeReport } from "../eval/report.ts";
import { DEFAULT_PSEUDO, OFFICIAL_PSEUDO } from "../masks/pipeline.ts";
import { addClipOptions, loadModelAndClip, type ClipFlags } from "./clipOptions.ts";
import { addOfficialOptions, type OfficialFlags } from "./officialOptions.ts";
import { DEFAULT_MODEL, DEFAULT_WILDRAYZER } from "../model/loadFile.ts";
import type { Clip } from "../data/clip.ts";
import { clipWindows } from "../data/sampling.ts";
import { clipMotionMasks, MOTION_THRESHOLD } from "../pipeline/motion.ts";
import { MASK_TAP } from "../pipeline/pseudoLabels.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress, formatDuration } from "./progress.ts";
import { pickRuntime, runtimeOption } from "./runtime.ts";
import type { Runtime } from "../pipeline/onnxForward.ts";
import { runWarpMasks } from "./warpMasks.ts";
import { writeMaskPngs } from "./maskFiles.ts";
import { checkOutDir, OUT_HELP, type Owned } from "./outDir.ts";
import { DEFAULT_WARP } from "../pipeline/warpRenderer.ts";
import { countingMasker, describeTokenMasks, makeInputMasker, resolveTokenMasks, tokenMaskRuntime, type InputMasker, type TokenMaskMode } from "../pipeline/maskedInputs.ts";
import { tokenMasksOption } from "./tokenMasksOption.ts";

const SETTINGS = ["ours", "official"] as const;
/** What `masks` owns in its output folder: its per-frame PNGs, masks.json and the debug page. */
export const MASKS_OUTPUTS: Owned = { names: ["masks.json", "debug.html", "debug_files"], matches: (name) => name.toLowerCase().endsWith(".png") };
const RENDERERS = ["model", "warp"] as const;
type MasksFlags = ClipFlags & OfficialFlags & {
  pseudo: boolean;
  estimator: boolean;
  ckpt?: string;
  input: string;
  out: string;
  debug: boolean;
  settings: (typeof SETTINGS)[number];
  renderer: (typeof RENDERERS)[number];
  neighbours?: string;
  spacing?: string;
  runtime?: Runtime;
  tokenMasks?: TokenMaskMode;
};

/**
 * Writes one 0/255 PNG per frame at the input frame's size (zero where the working crop cut away) and masks.json
 * (`summary`, then per-frame coverage and IoU against the clip's own masks where it has them).
 */
async function writeMasks(out: string, clip: Clip, masks: readonly Uint8Array[], summary: Record<string, unknown>) {
  const { frames, miou } = await writeMaskPngs(out, clip.frames, masks, (mask, f) => {
    const crop = clip.crops[f]!;
    return { mask: uncropMask(mask, crop), h: crop.orig.h, w: crop.orig.w };
  });
  writeFileAtomic(join(out, "masks.json"), `${JSON.stringify({ ...summary, frames, ...(miou !== undefined ? { miouWorkingSize: Number(miou.toFixed(4)) } : {}) }, null, 1)}\n`);
  return { frames, miou };
}

/** `--estimator`: the motion estimator's masks, one feed-forward pass per window (no rendering is compared). */
async function motionMasksCommand(flags: MasksFlags, g: GlobalOptions, claim: () => void): Promise<void> {
  const t0 = performance.now();
  if (flags.debug) throw new WildrayzerError("--debug: the pseudo-mask pipeline's stages (not with --estimator)");
  await startEngine({ device: g.device });
  const ckpt = flags.ckpt ?? DEFAULT_WILDRAYZER;
  const { params, meta, clip } = await loadModelAndClip(ckpt, flags.input, flags);
  const model = meta.model;
  if (!params.motion || !model.motion) {
    dispose(params);
    throw new WildrayzerError(`${ckpt}: a stage-1 RayZer without a motion estimator; drop --estimator (pseudo-masks), or train one: train --stage 2 --from ${ckpt}`);
  }
  if (clip.frames.length < model.views) {
    dispose(params);
    throw new WildrayzerError(`${flags.input}: ${clip.frames.length} frames, but the model needs at least ${model.views} per window`);
  }
  for (const warning of clip.warnings) if (!g.quiet) process.stderr.write(`warning: ${warning}\n`);
  const fx = await loadMobilenetV2();
  const progress = createProgress({ label: "masks", total: clipWindows(clip.frames.length, model.views).length, quiet: g.quiet });
  let r;
  try {
    r = await clipMotionMasks(params, model, clip, fx, MASK_TAP, { onProgress: (done, total) => progress.update(done, `window ${done}/${total}`) });
  } finally {
    dispose(params);
    fx.dispose();
  }
  progress.stop(`${clip.frames.length} frames`);
  claim();
  const summary = { input: flags.input, source: "motion estimator", checkpoint: ckpt, step: meta.step, stage: meta.stage, threshold: MOTION_THRESHOLD, workingSize: [clip.w, clip.h] };
  const { frames, miou } = await writeMasks(flags.out, clip, r.masks, summary);
  const tail = miou !== undefined ? `; mIoU against the clip's own masks ${miou.toFixed(3)} (working size)` : "";
  process.stdout.write(`wrote ${frames.length} masks (motion estimator) to ${flags.out}/${tail} (${formatDuration(performance.now() - t0)})\n`);
}

export function registerMasks(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command("masks")
    .description("motion masks of a clip: by default the union of the warp renderer's pseudo-masks (what a static renderer cannot re-render, full size) and the shipped motion estimator's masks (measured best on real footage, README); --pseudo or --estimator for one source")
    .option("--pseudo", "only the pseudo-masks from rendering residuals (with --estimator too: their union, the default)", false)
    .option("--estimator", "only the motion estimator of a stage-2/3 model (one feed-forward pass per window, at the model's working size)", false)
    .requiredOption("--input <path>", "a video, a folder of frames, a DAVIS/LLFF folder or a scene folder")
    .requiredOption("--out <dir>", OUT_HELP)
    .addOption(new Option("--renderer <which>", "pseudo-masks: the static renderer: warp (neighbouring frames aligned by homographies, median; full size) or model (a trained RayZer at its working size)").choices(RENDERERS).default("warp"))
    .option("--ckpt <file>", "the motion estimator's model (the default union and --estimator; default: the shipped models/wildrayzer-small.safetensors); --pseudo --renderer model: the static renderer (default: models/small.safetensors)")
    .option("--neighbours <n>", `--renderer warp: aligned neighbours per target (default ${DEFAULT_WARP.neighbours})`)
    .option("--spacing <n>", `--renderer warp: frames between neighbours (default ${DEFAULT_WARP.spacing})`)
    .addOption(new Option("--settings <which>", "pipeline settings: ours (tuned for small frames, RESULTS.md) or official (docs/METHOD.md §5)").choices(SETTINGS).default("ours"))
    .option("--debug", "also write debug.html with every intermediate map of every window", false)
    .addOption(runtimeOption())
    .addOption(tokenMasksOption("--renderer model: "));
  addOfficialOptions(addClipOptions(cmd)).action(async (flags: MasksFlags) => {
    const g = globals();
    // the union of both sources unless one is asked for alone; --renderer model keeps its own pseudo-masks
    const union = flags.pseudo === flags.estimator && flags.renderer === "warp";
    if (flags.pseudo && flags.estimator && flags.renderer !== "warp") throw new WildrayzerError("--pseudo --estimator: their union takes the warp renderer's pseudo-masks; drop --renderer model");
    if ((flags.neighbours !== undefined || flags.spacing !== undefined) && ((flags.estimator && !union) || flags.renderer !== "warp")) {
      throw new WildrayzerError("--neighbours/--spacing: options of --renderer warp");
    }
    if (flags.tokenMasks === "motion" && (flags.estimator || flags.renderer !== "model")) throw new WildrayzerError("--token-masks motion: an option of --pseudo --renderer model (the warp renderer and --estimator read no tokens)");
    const outDir = checkOutDir(flags.out, "masks", MASKS_OUTPUTS);
    if (union) return runWarpMasks(flags, g, outDir.claim, { ckpt: flags.ckpt ?? DEFAULT_WILDRAYZER, label: flags.ckpt ?? "the shipped models/wildrayzer-small.safetensors" });
    if (flags.estimator) return motionMasksCommand(flags, g, outDir.claim);
    if (flags.renderer === "warp") return runWarpMasks(flags, g, outDir.claim);
    const t0 = performance.now();
    await startEngine({ device: g.device });
    const ckpt = flags.ckpt ?? DEFAULT_MODEL;
    const { params, meta, clip } = await loadModelAndClip(ckpt, flags.input, flags);
    const model = meta.model;
    const fx = await loadMobilenetV2();
    const options = flags.settings === "official" ? OFFICIAL_PSEUDO : DEFAULT_PSEUDO;
    if (clip.frames.length < model.views) {
      dispose(params);
      fx.dispose();
      throw new WildrayzerError(`${flags.input}: ${clip.frames.length} frames, but masks need at least ${model.views} (2 inputs + ${model.views - 2} targets per window)`);
    }
    for (const warning of clip.warnings) if (!g.quiet) process.stderr.write(`warning: ${warning}\n`);
    const progress = createProgress({ label: "masks", total: maskWindows(clip.frames.length, model.views).length, quiet: g.quiet });
    let r;
    let tokenMasks: TokenMaskMode;
    const dropped: number[] = [];
    let masker: InputMasker | undefined;
    try {
      tokenMasks = resolveTokenMasks(flags.tokenMasks, meta.stage, params, model, ckpt);
      masker = tokenMasks === "motion" ? makeInputMasker(params, model, fx) : undefined;
      r = await clipPseudoMasks(params, model, clip, fx, { name: MOBILENET_TAPS.stride4, stride: 4 }, {
        options,
        runtime: tokenMaskRuntime(model, !!masker, pickRuntime(flags.runtime, g.device)),
        ...(masker ? { masker: countingMasker(masker, dropped) } : {}),
        onProgress: (done, total) => progress.update(done, `window ${done}/${total}`),
      });
    } finally {
      masker?.dispose();
      dispose(params);
      fx.dispose();
    }
    const replaced = dropped.length ? dropped.reduce((a, x) => a + x, 0) / dropped.length : 0;
    const tokenText = describeTokenMasks(tokenMasks, flags.tokenMasks, meta.stage, tokenMasks === "motion" ? replaced : undefined);
    progress.stop(`${r.windows.length} windows`);
    outDir.claim();
    const summary = {
      input: flags.input,
      source: "pseudo-masks (rendering residuals)",
      checkpoint: ckpt,
      step: meta.step,
      settings: flags.settings,
      tokenMasks,
      tokensReplaced: Number(replaced.toFixed(6)),
      workingSize: [clip.w, clip.h],
      windows: r.windows.map((wm) => ({ inputs: wm.window.inputs.map((f) => clip.frames[f]!.name), targets: wm.window.targets.map((f) => clip.frames[f]!.name) })),
    };
    const { frames, miou } = await writeMasks(flags.out, clip, r.masks, summary);
    if (flags.debug) {
      const sections = await maskDebugSections(clip, r.windows);
      const page = await buildReport({
        title: `wildrayzer masks --debug: ${clip.name}`,
        intro: `Pseudo-motion masks, ${flags.settings} settings, static renderer ${ckpt} (step ${meta.step}), working size ${clip.w}×${clip.h}. Each window: its two end frames are the inputs; the frames between are rendered from them and compared.`,
        sections,
        scenes: [],
      });
      writeReport(flags.out, page, "debug.html");
    }
    const tail = miou !== undefined ? `; mIoU against the clip's own masks ${miou.toFixed(3)} (working size)` : "";
    process.stdout.write(`wrote ${frames.length} masks to ${flags.out}/${flags.debug ? " and debug.html" : ""}${tail}; ${tokenText} (${formatDuration(performance.now() - t0)})\n`);
  });
}
