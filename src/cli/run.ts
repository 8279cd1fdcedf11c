/**
 * `wildrayzer run CLIP --out DIR [--ckpt C] [--renderer warp|model]`: a clip end to end. Reads any footage the
 * readers know, estimates every frame's camera with the model's camera estimator (windows of the model's views over
 * the whole clip, chained: src/pipeline/clipCameras.ts), makes motion masks as pseudo-masks from the chosen static
 * renderer (warp: src/pipeline/frameMasks.ts at the input's full size; model: the RayZer at its working size,
 * src/pipeline/clipMasks.ts), by default united with the masks of the model's motion estimator (`--masks both`:
 * two weak detectors with different misses; on tennis the union scores 0.344 mIoU against 0.264 and 0.233 alone),
 * and composes clean static frames: the static renderer's output where the mask says
 * moving, the frame elsewhere. Writes, atomically, into DIR (the folder rule: outDir.ts):
 *   masks/<frame>.png   0/255 masks at the input's full size, named after the input frames
 *   clean/<frame>.png   clean static frames at the input's full size
 *   overlay.mp4         the frames with their masks tinted red
 *   cameras.json        per-frame c2w and intrinsics in the input's pixels, with the crop the model saw
 *   report.html         verdict, then per window: frames, masks overlaid, clean frames, camera path (+ report_files/)
 *   run.json            settings, timings, per-frame coverage (and IoU against the clip's own masks, when it has them)
 * With `--renderer model` a stage-3 model renders from its input views' tokens with the dynamic ones replaced
 * (`--token-masks`, default by the stage rule: src/pipeline/maskedInputs.ts); the warp renderer reads no tokens.
 * `--fit STEPS` fits the RayZer to the clip first (src/train/fit.ts: the self-supervised loss on windows of this
 * clip, pixels the first masks call moving gated out), then makes the masks (for `--masks pseudo`) and the clean
 * frames again with the fitted RayZer as the static renderer, and the cameras with its fitted camera estimator.
 */
import { overlayMask } from "../eval/maskReport.ts";
import { join } from "node:path";
import { Option, type Command } from "commander";
import sharp from "sharp";
import { startEngine } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { dispose } from "../engine/params.ts";
import { encodeMaskPng, encodePng } from "../data/images.ts";
import { cropMask, uncropMask, type CropMap } from "../data/crop.ts";
import type { Clip } from "../data/clip.ts";
import { encodeVideo, readClip } from "../data/readers/index.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../features/mobilenetV2.ts";
import { maskIou, unionMask } from "../masks/pipeline.ts";
import { DEFAULT_MODEL, DEFAULT_WILDRAYZER } from "../model/loadFile.ts";
import { clipCameras, type FrameCamera } from "../pipeline/clipCameras.ts";
import { clipPseudoMasks } from "../pipeline/clipMasks.ts";
import { clipMotionMasks } from "../pipeline/motion.ts";
import { MASK_TAP } from "../pipeline/pseudoLabels.ts";
import { DEFAULT_FRAME_MASKS, rendererPseudoMasks, resizeImage } from "../pipeline/frameMasks.ts";
import { DEFAULT_WARP, warpRenderer } from "../pipeline/warpRenderer.ts";
import { countingMasker, describeTokenMasks, makeInputMasker, resolveTokenMasks, type InputMasker, type TokenMaskMode } from "../pipeline/maskedInputs.ts";
import { tokenMasksOption } from "./tokenMasksOption.ts";
import { cameraPathSvg, escapeHtml, REPORT_FILES_DIR } from "../eval/report.ts";
import { addClipOptions, clipOptionsFrom, loadModelAndClip, type ClipFlags } from "./clipOptions.ts";
import type { GlobalOptions } from "./globals.ts";
import { checkOutDir, OUT_HELP } from "./outDir.ts";
import { createProgress, formatDuration } from "./progress.ts";
import { fitToClip, type FitResult } from "../train/fit.ts";

const RENDERERS = ["warp", "model"] as const;
type Renderer = (typeof RENDERERS)[number];
const MASK_SOURCES = ["both", "pseudo", "motion"] as const;
type MaskSource = (typeof MASK_SOURCES)[number];
type RunFlags = ClipFlags & { out: string; ckpt?: string; renderer: Renderer; masks?: MaskSource; fit?: string; tokenMasks?: TokenMaskMode };


/** What `run` owns in its output folder (removed before a rerun into the same folder). */
export const RUN_OUTPUTS = ["masks", "clean", "overlay.mp4", "cameras.json", "report.html", REPORT_FILES_DIR, "run.json"];

/** Frames, masks and static renderings, all at the input's full size. */
type FullFrames = { names: string[]; h: number; w: number; frames: Float32Array[]; masks: Uint8Array[]; statics: Float32Array[]; clean: Float32Array[] };

/** The clean static frame: `render` where `mask` is 1, `frame` elsewhere. Planar [3, h, w]. */
export function composeClean(frame: Float32Array, render: Float32Array, mask: Uint8Array): Float32Array {
  const n = mask.length;
  const out = Float32Array.from(frame);
  for (let i = 0; i < n; i++) if (mask[i]) for (let c = 0; c < 3; c++) out[c * n + i] = render[c * n + i]!;
  return out;
}

/** A working-size rendering enlarged (bilinear) into its crop region of an `orig`-size frame; zero outside. */
async function uncropImage(render: Float32Array, crop: CropMap): Promise<Float32Array> {
  const { orig, region, size } = crop;
  const big = await resizeImage(render, size.h, size.w, region.h, region.w);
  const out = new Float32Array(3 * orig.h * orig.w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < region.h; y++) {
      const src = big.subarray(c * region.h * region.w + y * region.w, c * region.h * region.w + (y + 1) * region.w);
      out.set(src, c * orig.h * orig.w + (y + region.y0) * orig.w + region.x0);
    }
  }
  return out;
}

export function registerRun(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command("run")
    .argument("<clip>", "a video, a folder of frames, a DAVIS/LLFF folder or a scene folder")
    .description("a clip end to end: moving-object masks and clean static frames at the input's size, per-frame cameras, an overlay video and report.html")
    .requiredOption("--out <dir>", OUT_HELP)
    .option("--ckpt <file>", "the model for the cameras, the motion estimator (--masks both|motion) and, with --renderer model, the static renderer; default: the shipped models/wildrayzer-small.safetensors (stage 3), with --masks pseudo the shipped models/small.safetensors")
    .addOption(new Option("--renderer <which>", "the static renderer for masks and clean frames: warp (neighbouring frames aligned by homographies, median; full size; measured better on tennis, README) or model (the RayZer at its working size, enlarged)").choices(RENDERERS).default("warp"))
    .addOption(
      new Option(
        "--masks <source>",
        "both (default when the model has a motion estimator): the union of the pseudo-masks and the estimator's masks (measured best on tennis, README); pseudo: what the static renderer cannot re-render; motion: the motion estimator of a stage-2/3 model (one pass per window, at its working size, enlarged); both and motion default to the shipped models/wildrayzer-small.safetensors",
      ).choices(MASK_SOURCES),
    )
    .addOption(tokenMasksOption("with --renderer model (the warp renderer reads no tokens): "))
    .option("--fit <steps>", "test-time fitting: train the RayZer on this clip's own windows for <steps> steps (self-supervised; pixels the first masks call moving left out of the loss), then pseudo-masks (the estimator's are kept), clean frames and cameras again with the fitted RayZer as static renderer; ~0.4 s a step on 2 cores; on tennis it helps --renderer model's masks and hurts the warp renderer's (README)");
  addClipOptions(cmd).action(async (input: string, flags: RunFlags) => {
    const fitSteps = flags.fit === undefined ? 0 : Number(flags.fit);
    if (flags.fit !== undefined && (!Number.isInteger(fitSteps) || fitSteps < 1)) throw new WildrayzerError(`--fit ${flags.fit}: give a whole number of steps ≥ 1`);
    const g = globals();
    const t0 = performance.now();
    const outDir = checkOutDir(flags.out, "run", { names: RUN_OUTPUTS });
    await startEngine({ device: g.device });
    // --masks motion needs a stage-2 model: the shipped one unless --ckpt names another
    const ckpt = flags.ckpt ?? (flags.masks === "pseudo" ? DEFAULT_MODEL : DEFAULT_WILDRAYZER);
    const ckptLabel = flags.ckpt ?? (flags.masks === "pseudo" ? "the shipped models/small.safetensors" : "the shipped models/wildrayzer-small.safetensors");
    const loaded = await loadModelAndClip(ckpt, input, flags);
    let params = loaded.params;
    const { meta, clip } = loaded;
    const model = meta.model;
    // no --masks: both where the model has an estimator, else the pseudo-masks alone
    const maskSource: MaskSource = flags.masks ?? (params.motion && model.motion ? "both" : "pseudo");
    let cams: Awaited<ReturnType<typeof clipCameras>>;
    let full: FullFrames;
    let windows: number[][];
    let native: Clip;
    let tokenMasks: TokenMaskMode;
    const dropped: number[] = [];
    let fit: (Omit<FitResult, "params"> & { miouBefore?: number; gated: number }) | undefined;
    try {
      if (maskSource !== "pseudo" && (!params.motion || !model.motion)) {
        throw new WildrayzerError(`--masks ${maskSource}: ${ckptLabel} is a stage-1 RayZer without a motion estimator; give a stage-2 or stage-3 --ckpt, or use --masks pseudo`);
      }
      if (flags.renderer === "warp" && flags.tokenMasks === "motion" && !fitSteps) throw new WildrayzerError("--token-masks motion: the warp renderer reads no tokens; use it with --renderer model or --fit");
      // after --fit the fitted RayZer renders, so its token masks follow the model's rule
      tokenMasks = flags.renderer === "model" || fitSteps ? resolveTokenMasks(flags.tokenMasks, meta.stage, params, model, ckptLabel) : "none";
      if (clip.frames.length < model.views) throw new WildrayzerError(`${input}: ${clip.frames.length} frames, but the model needs at least ${model.views} per window`);
      for (const warning of clip.warnings) if (!g.quiet) process.stderr.write(`warning: ${warning}\n`);
      native = await readClip(input, { ...clipOptionsFrom(flags, model.imageSize), native: true });
      if (native.frames.length !== clip.frames.length) throw new Error(`run: ${native.frames.length} full-size frames but ${clip.frames.length} working frames`);
      const fx = await loadMobilenetV2();
      try {
        const rendered = async (): Promise<{ full: FullFrames; windows: number[][] }> => {
          dropped.length = 0;
          const masker = tokenMasks === "motion" ? makeInputMasker(params, model, fx) : undefined;
          try {
            return await modelFrames(params, model, clip, native, fx, g, masker && countingMasker(masker, dropped));
          } finally {
            masker?.dispose();
          }
        };
        if (flags.renderer === "warp") ({ full, windows } = await warpFrames(native, fx, g));
        else ({ full, windows } = await rendered());
        let motionMasks: Uint8Array[] | undefined;
        const withMotion = (f: FullFrames): FullFrames => (motionMasks ? withMasks(f, maskSource === "both" ? f.masks.map((m, i) => unionMask(m, motionMasks![i]!)) : motionMasks) : f);
        if (maskSource !== "pseudo") {
          const progress = createProgress({ label: "motion masks", total: 1, quiet: g.quiet });
          const m = await clipMotionMasks(params, model, clip, fx, MASK_TAP, { onProgress: (d, t) => progress.update(d / t) });
          progress.stop(`${clip.frames.length} frames`);
          motionMasks = m.masks.map((mask, f) => uncropMask(mask, clip.crops[f]!));
          full = withMotion(full);
        }
        if (fitSteps) {
          // the first masks at the working size: a working pixel is gated when ≥ FIT_GATE of its footprint moves
          const gates = full.masks.map((m, f) => Uint8Array.from(cropMask(m, clip.crops[f]!), (v) => (v >= FIT_GATE ? 1 : 0)));
          const gated = gates.reduce((a, m) => a + m.reduce((x, y) => x + y, 0), 0) / gates.reduce((a, m) => a + m.length, 0);
          const miouBefore = clipMiou(full.masks, native, clip);
          const progress = createProgress({ label: "fit", total: fitSteps, quiet: g.quiet });
          const r = await fitToClip(params, model, clip, gates, { steps: fitSteps, seed: 0, onStep: (s, _t, loss) => progress.update(s, `loss ${loss.toFixed(4)}`) });
          params = r.params;
          progress.stop(`clip loss ${r.before.toFixed(4)} → ${r.after.toFixed(4)} in ${formatDuration(r.seconds * 1000)}`);
          fit = { losses: r.losses, before: r.before, after: r.after, seconds: r.seconds, gated, ...(miouBefore !== undefined ? { miouBefore } : {}) };
          ({ full, windows } = await rendered());
          full = withMotion(full);
        }
      } finally {
        fx.dispose();
      }
      const camProgress = createProgress({ label: "cameras", total: 1, quiet: g.quiet });
      cams = await clipCameras(params, model, clip, (d, t) => camProgress.update(d / t));
      camProgress.stop(`${cams.windows.length} windows`);
    } finally {
      dispose(params);
    }
    const { h, w } = full;
    outDir.claim();
    const overlays: Uint8Array[] = [];
    const frames = [];
    for (const [f, name] of full.names.entries()) {
      writeFileAtomic(join(flags.out, "masks", `${name}.png`), await encodeMaskPng(full.masks[f]!, h, w));
      writeFileAtomic(join(flags.out, "clean", `${name}.png`), await encodePng(full.clean[f]!, h, w));
      overlays.push(await encodePng(overlayMask(full.frames[f]!, full.masks[f]!), h, w));
      const truth = truthMask(native, clip, f);
      const coverage = full.masks[f]!.reduce((a, b) => a + b, 0) / (h * w);
      frames.push({ name, coverage: Number(coverage.toFixed(4)), ...(truth ? { iou: Number(maskIou(full.masks[f]!, truth).toFixed(4)) } : {}) });
    }
    encodeVideo(overlays, join(flags.out, "overlay.mp4"), 10);
    const crop = clip.crops[0]!;
    const cameras = {
      input,
      model: ckpt,
      step: meta.step,
      convention: "OpenCV camera-to-world (x right, y down, z forward), row-major 4×4, relative to the first frame",
      intrinsics: `fxfycxcy in pixels of the input frame (${w}×${h}), pixel centres at +0.5`,
      crop: {
        note: `the model saw a ${crop.region.w}×${crop.region.h} region at (${crop.region.x0}, ${crop.region.y0}) resized to ${crop.size.w}×${crop.size.h}; the intrinsics are mapped back to the full frame`,
        region: crop.region,
        workingSize: [crop.size.w, crop.size.h],
      },
      scale: "each window of the model's views is estimated on its own and chained through a shared frame: rotations chain exactly, translation scale may differ between windows",
      windows: cams.windows.map((win) => [...win.inputs, ...win.targets].sort((a, b) => a - b).map((f) => full.names[f]!)),
      frames: full.names.map((name, f) => ({ name, window: cams.cameras[f]!.window, c2w: cams.cameras[f]!.c2w.map(round6), fxfycxcy: cams.cameras[f]!.original.map(round6) })),
    };
    writeFileAtomic(join(flags.out, "cameras.json"), `${JSON.stringify(cameras, null, 1)}\n`);
    const seconds = (performance.now() - t0) / 1000;
    const withTruth = frames.filter((f) => f.iou !== undefined);
    const miou = withTruth.length ? withTruth.reduce((a, f) => a + f.iou!, 0) / withTruth.length : undefined;
    const moving = frames.filter((f) => f.coverage > 0.001).length;
    const meanCoverage = frames.reduce((a, f) => a + f.coverage, 0) / frames.length;
    const renderer: Renderer = fit ? "model" : flags.renderer;
    const fitText = fit
      ? `, after fitting the RayZer to this clip for ${fitSteps} steps (${formatDuration(fit.seconds * 1000)}; clip loss ${fit.before.toFixed(4)} → ${fit.after.toFixed(4)}; first masks from ${flags.renderer === "warp" ? "the warp renderer" : "the RayZer"}${maskSource === "pseudo" ? "" : maskSource === "both" ? " ∪ the motion estimator" : " (pseudo), the motion estimator's kept"}${fit.miouBefore !== undefined ? `, mIoU ${fit.miouBefore.toFixed(3)}` : ""})`
      : "";
    const rendererText = (renderer === "warp"
      ? `the warp static renderer (${DEFAULT_WARP.neighbours} neighbours ${DEFAULT_WARP.spacing} frames apart, aligned by homographies, median) at ${w}×${h}`
      : `the RayZer of ${ckptLabel} as static renderer at ${model.imageSize}×${model.imageSize} (centre crop), enlarged to the frame`) + fitText;
    const replaced = tokenMasks === "motion" ? dropped.reduce((a, x) => a + x, 0) / Math.max(1, dropped.length) : 0;
    const tokenText =
      renderer === "warp"
        ? "input tokens: not used (the warp renderer reads none)"
        : describeTokenMasks(tokenMasks, flags.tokenMasks, meta.stage, tokenMasks === "motion" ? replaced : undefined);
    const verdict =
      `${input}: moving objects in ${moving} of ${frames.length} frames (mean ${(100 * meanCoverage).toFixed(1)} % of the frame)` +
      `${miou !== undefined ? `, mIoU ${miou.toFixed(3)} against the clip's own masks` : ""}; ${formatDuration(seconds * 1000)}; ${
        maskSource === "motion"
          ? `masks from the motion estimator of ${ckptLabel} (at ${model.imageSize}², enlarged), clean frames from ${rendererText}`
          : maskSource === "both"
            ? `masks: the union of the pseudo-masks of ${rendererText} and the motion estimator's (at ${model.imageSize}², enlarged), clean frames from the same renderer`
            : `masks and clean frames from ${rendererText}${flags.masks ? "" : " (the model has no motion estimator: pseudo-masks only)"}`
      }; ${tokenText}; cameras from ${ckptLabel} (step ${meta.step}, centre crop at ${model.imageSize}×${model.imageSize}).`;
    writeFileAtomic(
      join(flags.out, "run.json"),
      `${JSON.stringify({ input, renderer: flags.renderer, masks: maskSource, tokenMasks: renderer === "model" ? tokenMasks : null, tokensReplaced: Number(replaced.toFixed(6)), model: ckpt, step: meta.step, size: [w, h], seconds: Number(seconds.toFixed(1)), windows: windows.map((t) => t.map((f) => full.names[f]!)), frames, ...(miou !== undefined ? { miou: Number(miou.toFixed(4)) } : {}), ...(fit ? { fit: { steps: fitSteps, firstRenderer: flags.renderer, gatedFraction: Number(fit.gated.toFixed(4)), clipLossBefore: fit.before, clipLossAfter: fit.after, seconds: Number(fit.seconds.toFixed(1)), ...(fit.miouBefore !== undefined ? { miouBefore: Number(fit.miouBefore.toFixed(4)) } : {}), losses: fit.losses.map((l) => Number(l.toPrecision(5))) } } : {}) }, null, 1)}\n`,
    );
    await writeRunReport(flags.out, { verdict, full, windows, cameras: cams.cameras, renderer, masks: maskSource, rendererText, ckpt: ckptLabel });
    process.stdout.write(`${verdict}\nwrote masks/, clean/, overlay.mp4, cameras.json, report.html to ${flags.out}/\n`);
  });
}

const round6 = (v: number) => Number(v.toFixed(6));

/** `--fit`: a working pixel is left out of the fitting loss when at least this fraction of its footprint moves. */
const FIT_GATE = 0.2;

/** Frame f's own mask at the input's full size, when the clip has one. */
function truthMask(native: Clip, clip: Clip, f: number): Uint8Array | undefined {
  return native.frames[f]!.mask ?? (clip.frames[f]!.mask ? uncropMask(clip.frames[f]!.mask!, clip.crops[f]!) : undefined);
}

/** Mean IoU of full-size masks against the clip's own masks, over the frames that have one. */
function clipMiou(masks: readonly Uint8Array[], native: Clip, clip: Clip): number | undefined {
  const ious = masks.flatMap((m, f) => {
    const t = truthMask(native, clip, f);
    return t ? [maskIou(m, t)] : [];
  });
  return ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : undefined;
}

/** `full` with other masks: clean frames recomposed from the static renderings (kept in `statics`). */
function withMasks(full: FullFrames, masks: Uint8Array[]): FullFrames {
  return { ...full, masks, clean: full.statics.map((s, f) => composeClean(full.frames[f]!, s, masks[f]!)) };
}

async function warpFrames(native: Clip, fx: Awaited<ReturnType<typeof loadMobilenetV2>>, g: GlobalOptions): Promise<{ full: FullFrames; windows: number[][] }> {
  if (native.frames.length < 3) throw new WildrayzerError(`${native.source}: ${native.frames.length} frames, but the warp renderer needs at least 3`);
  const stack = { frames: native.frames.map((f) => f.image), h: native.h, w: native.w };
  const progress = createProgress({ label: "masks", total: Math.ceil(native.frames.length / DEFAULT_FRAME_MASKS.window), quiet: g.quiet });
  const r = await rendererPseudoMasks(stack, warpRenderer(), fx, { name: MOBILENET_TAPS.stride4, stride: 4 }, { onProgress: (d, t) => progress.update(d, `window ${d}/${t}`) });
  progress.stop(`${r.windows.length} windows`);
  const statics: Float32Array[] = new Array(native.frames.length);
  for (const win of r.windows) win.targets.forEach((f, j) => (statics[f] = win.renders[j]!));
  const clean = statics.map((s, f) => composeClean(stack.frames[f]!, s, r.masks[f]!));
  return {
    full: { names: native.frames.map((f) => f.name), h: native.h, w: native.w, frames: [...stack.frames], masks: r.masks, statics, clean },
    windows: r.windows.map((win) => win.targets),
  };
}

async function modelFrames(
  params: Parameters<typeof clipPseudoMasks>[0],
  model: Parameters<typeof clipPseudoMasks>[1],
  clip: Clip,
  native: Clip,
  fx: Awaited<ReturnType<typeof loadMobilenetV2>>,
  g: GlobalOptions,
  masker?: InputMasker,
): Promise<{ full: FullFrames; windows: number[][] }> {
  const progress = createProgress({ label: "masks", total: 1, quiet: g.quiet });
  const r = await clipPseudoMasks(params, model, clip, fx, { name: MOBILENET_TAPS.stride4, stride: 4 }, { ...(masker ? { masker } : {}), onProgress: (d, t) => progress.update(d / t) });
  progress.stop(`${r.windows.length} windows`);
  const masks = r.masks.map((m, f) => uncropMask(m, clip.crops[f]!));
  const statics: Float32Array[] = new Array(clip.frames.length);
  for (const win of r.windows) {
    for (const [j, f] of win.window.targets.entries()) statics[f] ??= await uncropImage(win.renders[j]!, clip.crops[f]!);
  }
  const clean = statics.map((s, f) => composeClean(native.frames[f]!.image, s, masks[f]!));
  return {
    full: { names: clip.frames.map((f) => f.name), h: native.h, w: native.w, frames: native.frames.map((f) => f.image), masks, statics, clean },
    windows: r.windows.map((win) => win.window.targets),
  };
}

type ReportInput = { verdict: string; full: FullFrames; windows: number[][]; cameras: FrameCamera[]; renderer: Renderer; masks: MaskSource; rendererText: string; ckpt: string };

/** report.html: the verdict, then per window its frames, masks overlaid, clean frames and camera path. */
async function writeRunReport(out: string, r: ReportInput): Promise<void> {
  const { full } = r;
  const thumbW = Math.min(full.w, 128);
  const thumbH = Math.round((full.h * thumbW) / full.w);
  const thumb = async (img: Float32Array) => sharp(await encodePng(img, full.h, full.w)).resize(thumbW, thumbH).png().toBuffer();
  const sections: string[] = [];
  const sceneFrames = full.names.map((name, f) => ({ name, image: full.frames[f]!, camera: { c2w: r.cameras[f]!.c2w, fxfycxcy: r.cameras[f]!.original } }));
  for (const [wi, targets] of r.windows.entries()) {
    const rows: { label: string; imgs: Float32Array[] }[] = [
      { label: "input frame", imgs: targets.map((f) => full.frames[f]!) },
      { label: r.masks === "motion" ? "mask (red) from the motion estimator" : r.masks === "both" ? `mask (red): ${r.renderer} pseudo-masks ∪ motion estimator` : `mask (red) from ${r.renderer} pseudo-masks`, imgs: targets.map((f) => overlayMask(full.frames[f]!, full.masks[f]!)) },
      { label: r.renderer === "warp" ? "clean: warp static rendering where masked" : "clean: model rendering (32², enlarged) where masked", imgs: targets.map((f) => full.clean[f]!) },
    ];
    const html: string[] = [];
    for (const [ri, row] of rows.entries()) {
      const cells = [];
      for (const [j, img] of row.imgs.entries()) {
        const path = `${REPORT_FILES_DIR}/w${String(wi).padStart(2, "0")}_${ri}_${j}.png`;
        writeFileAtomic(join(out, path), await thumb(img));
        cells.push(`<td><img src="${path}" width="${thumbW}" height="${thumbH}" alt="${escapeHtml(`${row.label} ${full.names[targets[j]!]!}`)}"></td>`);
      }
      html.push(`<tr><th>${escapeHtml(row.label)}</th>${cells.join("")}</tr>`);
    }
    const head = `<tr><th></th>${targets.map((f) => `<th class="frame">${escapeHtml(full.names[f]!)}</th>`).join("")}</tr>`;
    const first = full.names[targets[0]!]!, last = full.names[targets[targets.length - 1]!]!;
    sections.push(
      `<section><h2>Window ${wi + 1} of ${r.windows.length}: frames ${escapeHtml(first)}–${escapeHtml(last)}</h2>` +
        `<div class="scene"><div class="rows"><table>${head}${html.join("")}</table></div>` +
        `<figure>${cameraPathSvg(targets.map((f) => sceneFrames[f]!), 200)}<figcaption>camera path of these frames, top view (x right, z up), from ${escapeHtml(r.ckpt)}</figcaption></figure></div></section>`,
    );
  }
  const page = [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>wildrayzer run</title><style>${CSS}</style></head><body>`,
    `<h1>wildrayzer run</h1>`,
    `<p class="verdict">${escapeHtml(r.verdict)}</p>`,
    `<p>Files: <code>masks/</code> (0/255 PNGs at ${full.w}×${full.h}), <code>clean/</code>, <code>overlay.mp4</code>, <code>cameras.json</code>, <code>run.json</code>. ${
      r.masks === "motion"
        ? `Masks: the motion estimator of ${escapeHtml(r.ckpt)}, one feed-forward pass per window. Clean frames: ${escapeHtml(r.rendererText)}.`
        : `Masks: what ${escapeHtml(r.rendererText)} cannot re-render (features, SSIM and colour residuals, vote across the window, GrabCut)${r.masks === "both" ? `, united with the motion estimator's masks (${escapeHtml(r.ckpt)}, one feed-forward pass per window)` : ""}.`
    }</p>`,
    `<section><h2>Camera path, whole clip</h2><figure>${cameraPathSvg(sceneFrames, 260)}<figcaption>every frame's camera, top view (x right, z up), dark purple first, red last; estimated by ${escapeHtml(r.ckpt)} on the centre crop</figcaption></figure></section>`,
    ...sections,
    "</body></html>",
    "",
  ].join("\n");
  writeFileAtomic(join(out, "report.html"), page);
}

const CSS = [
  "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}",
  ".verdict{font-size:16px;font-weight:600;background:#eef4ff;border-left:4px solid #36c;padding:8px 12px}",
  "h2{margin:24px 0 6px;font-size:17px}",
  ".scene{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}.rows{overflow-x:auto;max-width:100%}",
  "table{border-collapse:collapse}td{padding:1px}th{text-align:right;padding-right:8px;font-weight:600;font-size:12px;min-width:130px;max-width:150px}",
  "th.frame{text-align:center;font-weight:normal;color:#888;font-size:11px;padding:0}",
  "img{display:block;background:#000}figure{margin:0}figcaption{color:#666;font-size:12px;max-width:260px}",
  "svg.path .axis{font-size:10px;fill:#666}",
].join("\n");
