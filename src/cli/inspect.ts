/**
 * `wildrayzer inspect PATH`: what a clip reader finds at PATH — format, frame count, original and working sizes,
 * masks and cameras present, which ffmpeg decoded a video (--verbose), and warnings. `--json` for scripts.
 * Reads only; writes nothing.
 */
import type { Command } from "commander";
import { MODEL_PRESETS } from "../model/config.ts";
import { readClip } from "../data/readers/index.ts";
import { WildrayzerError } from "../engine/errors.ts";
import type { Clip } from "../data/clip.ts";
import { addClipOptions, clipOptionsFrom, type ClipFlags } from "./clipOptions.ts";
import type { GlobalOptions } from "./globals.ts";

/** A plain-data summary of a clip (what `inspect --json` prints). */
export function summarizeClip(clip: Clip) {
  const sizes = [...new Set(clip.crops.map((c) => `${c.orig.w}x${c.orig.h}`))];
  const r = clip.crops[0]!.region;
  return {
    source: clip.source,
    format: clip.format,
    frames: clip.frames.length,
    names: [clip.frames[0]!.name, clip.frames.at(-1)!.name],
    originalSizes: sizes,
    workingSize: `${clip.w}x${clip.h}`,
    crop: `${clip.crop}: region ${r.w}x${r.h} at (${r.x0}, ${r.y0}) of the first frame`,
    masks: clip.frames.filter((f) => f.mask).length,
    cameras: clip.frames.filter((f) => f.camera).length,
    ...(clip.decoder ? { decoder: clip.decoder } : {}),
    warnings: clip.warnings,
  };
}

export function registerInspect(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command("inspect")
    .description("show what a video, image folder, DAVIS/LLFF folder or scene JSON holds, as the readers see it")
    .argument("<path>", "a video file, a folder of frames, a DAVIS or LLFF folder, or a scene folder / scene.json")
    .option("--preset <name>", "model preset whose image size is the default working size", "small")
    .option("--json", "print the summary as one JSON object", false);
  addClipOptions(cmd).action(async (path: string, flags: ClipFlags & { preset: string; json: boolean }) => {
    const g = globals();
    const preset = (MODEL_PRESETS as Record<string, { imageSize: number } | undefined>)[flags.preset];
    if (!preset) throw new WildrayzerError(`--preset ${flags.preset}: unknown (choose from ${Object.keys(MODEL_PRESETS).join(", ")})`);
    const clip = await readClip(path, clipOptionsFrom(flags, preset.imageSize));
    const s = summarizeClip(clip);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(s)}\n`);
      return;
    }
    const lines = [
      `${s.source}`,
      `  format         ${s.format}`,
      `  frames         ${s.frames} (${s.names[0]} … ${s.names[1]})`,
      `  original size  ${s.originalSizes.join(", ")} (w×h)`,
      `  working size   ${s.workingSize}, ${s.crop}`,
      `  masks          ${s.masks > 0 ? `${s.masks} of ${s.frames} frames` : "none"}`,
      `  cameras        ${s.cameras > 0 ? `${s.cameras} of ${s.frames} frames` : "none"}`,
    ];
    if (s.decoder && g.verbose) lines.push(`  decoder        ${s.decoder}`);
    for (const w of s.warnings) lines.push(`  warning: ${w}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}
