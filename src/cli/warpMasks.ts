/**
 * `wildrayzer masks [--pseudo] --renderer warp`: pseudo-motion masks with the classical warp static renderer
 * (src/pipeline/warpRenderer.ts) at the input's full size, covering the whole frame (src/pipeline/frameMasks.ts).
 * Writes, atomically, one 0/255 PNG per input frame at its size and under its name, `masks.json`, and with --debug
 * `debug.html` (frame, warp static rendering, every map, final mask). With `union` (the default of `masks`), the
 * masks written are the pixelwise union of these and the motion estimator's masks of that model file (at its working
 * size, brought back to the frame), as `run --masks both` writes them.
 */
import { join } from "node:path";
import { startEngine } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { readClip } from "../data/readers/index.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../features/mobilenetV2.ts";
import { maskDebugSections } from "../eval/maskReport.ts";
import { buildReport, writeReport } from "../eval/report.ts";
import { OFFICIAL_PSEUDO } from "../masks/pipeline.ts";
import { DEFAULT_FRAME_MASKS, frameWindows, rendererPseudoMasks, workingSize } from "../pipeline/frameMasks.ts";
import { DEFAULT_WARP, warpRenderer } from "../pipeline/warpRenderer.ts";
import { clipOptionsFrom, type ClipFlags } from "./clipOptions.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress, formatDuration } from "./progress.ts";
import { writeMaskPngs } from "./maskFiles.ts";
import { clipMotionMasks } from "../pipeline/motion.ts";
import { MASK_TAP } from "../pipeline/pseudoLabels.ts";
import { uncropMask } from "../data/crop.ts";
import { unionMask } from "../masks/pipeline.ts";
import { dispose } from "../engine/params.ts";
import { loadModelAndClip } from "./clipOptions.ts";

export type WarpMaskFlags = ClipFlags & { input: string; out: string; debug: boolean; settings: "ours" | "official"; ckpt?: string; neighbours?: string; spacing?: string };

const positive = (flag: string, v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new WildrayzerError(`--${flag} ${v}: expected an integer ≥ 1`);
  return n;
};

export async function runWarpMasks(flags: WarpMaskFlags, g: GlobalOptions, claim: () => void = () => {}, union?: { ckpt: string; label: string }): Promise<void> {
  const t0 = performance.now();
  if (flags.ckpt !== undefined && !union) throw new WildrayzerError("--ckpt: the warp renderer uses no model; drop --ckpt, or use --renderer model, or --estimator");
  if (flags.size !== undefined) throw new WildrayzerError("--size: the warp renderer works at the input's full size; leave --size out");
  const neighbours = positive("neighbours", flags.neighbours, DEFAULT_WARP.neighbours);
  const spacing = positive("spacing", flags.spacing, DEFAULT_WARP.spacing);
  const clip = await readClip(flags.input, { ...clipOptionsFrom(flags, 64), native: true });
  if (clip.frames.length < 3) throw new WildrayzerError(`${flags.input}: ${clip.frames.length} frames, but the warp renderer needs at least 3`);
  for (const warning of clip.warnings) if (!g.quiet) process.stderr.write(`warning: ${warning}\n`);
  await startEngine({ device: g.device });
  // the union's estimator first: a model without one, or a clip too short for it, fails before the warp work
  let motionMasks: Uint8Array[] | undefined;
  let estimator: { checkpoint: string; step: number; stage: number } | undefined;
  if (union) {
    const { params, meta, clip: working } = await loadModelAndClip(union.ckpt, flags.input, flags);
    try {
      if (!params.motion || !meta.model.motion) throw new WildrayzerError(`${union.label}: a stage-1 RayZer without a motion estimator; give a stage-2 or stage-3 --ckpt, or use --pseudo alone`);
      if (working.frames.length !== clip.frames.length) throw new Error(`masks: ${working.frames.length} working frames but ${clip.frames.length} full-size frames`);
      if (working.frames.length < meta.model.views) throw new WildrayzerError(`${flags.input}: ${working.frames.length} frames, but the motion estimator needs at least ${meta.model.views} per window; use --pseudo alone`);
      const fx2 = await loadMobilenetV2();
      const mp = createProgress({ label: "motion masks", total: 1, quiet: g.quiet });
      try {
        const m = await clipMotionMasks(params, meta.model, working, fx2, MASK_TAP, { onProgress: (d, t) => mp.update(d / t) });
        motionMasks = m.masks.map((mask, f) => uncropMask(mask, working.crops[f]!));
      } finally {
        fx2.dispose();
      }
      mp.stop(`${working.frames.length} frames`);
      estimator = { checkpoint: union.ckpt, step: meta.step, stage: meta.stage };
    } finally {
      dispose(params);
    }
  }
  const fx = await loadMobilenetV2();
  const opts = { ...DEFAULT_FRAME_MASKS, pseudo: flags.settings === "official" ? OFFICIAL_PSEUDO : DEFAULT_FRAME_MASKS.pseudo };
  const stack = { frames: clip.frames.map((f) => f.image), h: clip.h, w: clip.w };
  const progress = createProgress({ label: "masks", total: frameWindows(clip.frames.length, opts.window).length, quiet: g.quiet });
  let r;
  try {
    r = await rendererPseudoMasks(stack, warpRenderer({ neighbours, spacing }), fx, { name: MOBILENET_TAPS.stride4, stride: 4 }, {
      ...opts,
      onProgress: (done, total) => progress.update(done, `window ${done}/${total}`),
    });
  } finally {
    fx.dispose();
  }
  progress.stop(`${r.windows.length} windows`);
  const masks = motionMasks ? r.masks.map((mask, f) => unionMask(mask, motionMasks[f]!)) : r.masks;
  claim();
  const { frames, miou } = await writeMaskPngs(flags.out, clip.frames, masks, (mask) => ({ mask, h: clip.h, w: clip.w }));
  const work = workingSize(clip.h, clip.w, opts.workingShortSide);
  const summary = {
    input: flags.input,
    source: estimator ? "union of the warp pseudo-masks and the motion estimator's" : "warp pseudo-masks",
    renderer: "warp",
    ...(estimator ? { estimator } : {}),
    warp: { neighbours, spacing },
    settings: flags.settings,
    size: [clip.w, clip.h],
    workingSize: [work.w, work.h],
    windows: r.windows.map((wm) => ({ targets: wm.targets.map((f) => clip.frames[f]!.name) })),
    frames,
    ...(miou !== undefined ? { miou: Number(miou.toFixed(4)) } : {}),
  };
  writeFileAtomic(join(flags.out, "masks.json"), `${JSON.stringify(summary, null, 1)}\n`);
  if (flags.debug) {
    const windows = r.windows.map((wm) => ({ window: { inputs: [], targets: wm.targets }, renders: wm.renders, result: wm.result }));
    const sections = await maskDebugSections(clip, windows, "debug_files", (wi, win) => `window ${wi + 1}: frames ${clip.frames[win.targets[0]!]!.name}–${clip.frames[win.targets[win.targets.length - 1]!]!.name}`, `warp: median of ${neighbours} aligned neighbours, spacing ${spacing}`);
    const page = await buildReport({
      title: `wildrayzer masks --debug: ${clip.name}`,
      intro: `Pseudo-motion masks, ${flags.settings} settings, warp static renderer (${neighbours} neighbours, spacing ${spacing}), frames ${clip.w}×${clip.h}, patch stages at ${work.w}×${work.h}.`,
      sections,
      scenes: [],
    });
    writeReport(flags.out, page, "debug.html");
  }
  const tail = miou !== undefined ? `; mIoU against the clip's own masks ${miou.toFixed(3)}` : "";
  const what = estimator ? ` (warp pseudo-masks ∪ the motion estimator of ${union!.label})` : " (warp pseudo-masks)";
  process.stdout.write(`wrote ${frames.length} masks${what} to ${flags.out}/${flags.debug ? " and debug.html" : ""}${tail} (${formatDuration(performance.now() - t0)})\n`);
}
