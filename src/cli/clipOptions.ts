/**
 * The flags every command that reads real footage shares (`inspect`, `render`, `masks`, …), and their
 * translation to `ReadClipOptions` (src/data/clip.ts). Bad values are one-line usage errors.
 */
import { Option, type Command } from "commander";
import { WildrayzerError } from "../engine/errors.ts";
import { CLIP_FORMATS, type ClipFormat, type ReadClipOptions } from "../data/clip.ts";
import { CROP_POLICIES, type CropPolicy } from "../data/crop.ts";
import type { Clip } from "../data/clip.ts";
import { readClip } from "../data/readers/index.ts";
import { dispose } from "../engine/params.ts";
import { loadAnyModel } from "../model/officialFile.ts";
import { officialOptionsFrom, type OfficialFlags } from "./officialOptions.ts";

export type ClipFlags = {
  format?: ClipFormat;
  size?: string;
  crop: CropPolicy;
  stride: string;
  maxFrames?: string;
  start?: string;
  duration?: string;
  strict: boolean;
  sequence?: string;
};

/** Adds the clip-reading flags to `cmd`. */
export function addClipOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--format <kind>", "reader to use instead of detecting it from the path").choices(CLIP_FORMATS))
    .option("--size <px>", "working size (square); default: the model preset's image size")
    .addOption(new Option("--crop <policy>", "center: short side to the working size, then a centred crop; stretch: resize the whole frame").choices(CROP_POLICIES).default("center"))
    .option("--stride <n>", "keep every n-th frame", "1")
    .option("--max-frames <n>", "keep at most n frames (after the stride)")
    .option("--start <seconds>", "videos: start time")
    .option("--duration <seconds>", "videos: how many seconds to read")
    .option("--strict", "frames of different sizes are an error (default: each is cropped on its own, with a warning)", false)
    .option("--sequence <name>", "DAVIS root folders: the sequence to read");
}

/** The flags as reader options; `defaultSize` is used when --size is not given. */
export function clipOptionsFrom(flags: ClipFlags, defaultSize: number): ReadClipOptions {
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new WildrayzerError(`--${name} ${v}: expected an integer ≥ ${min}`);
    return n;
  };
  const secs = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new WildrayzerError(`--${name} ${v}: expected seconds ≥ 0`);
    return n;
  };
  return {
    size: int("size", flags.size, 8) ?? defaultSize,
    crop: flags.crop,
    format: flags.format,
    stride: int("stride", flags.stride, 1),
    maxFrames: int("max-frames", flags.maxFrames, 2),
    start: secs("start", flags.start),
    duration: secs("duration", flags.duration),
    strict: flags.strict,
    sequence: flags.sequence,
  };
}

/**
 * Loads the model file `ckpt` (ours, or official weights: `.pt` or official-layout safetensors) and reads `input` at the model's working size (a different `--size` is a user error);
 * the model's parameters are freed again when reading fails.
 */
export async function loadModelAndClip(ckpt: string, input: string, flags: ClipFlags & OfficialFlags): Promise<Awaited<ReturnType<typeof loadAnyModel>> & { clip: Clip }> {
  const loaded = await loadAnyModel(ckpt, {}, officialOptionsFrom(flags));
  const size = loaded.meta.model.imageSize;
  try {
    const opts = clipOptionsFrom(flags, size);
    if (opts.size !== size) throw new WildrayzerError(`--size ${opts.size}: this checkpoint works at ${size}×${size}; leave --size out`);
    return { ...loaded, clip: await readClip(input, opts) };
  } catch (err) {
    dispose(loaded.params);
    throw err;
  }
}
