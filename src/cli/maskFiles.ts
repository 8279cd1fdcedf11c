/**
 * The mask files `masks` writes, with the model's renderer and with the warp renderer alike: one 0/255 PNG per
 * frame under the frame's name, and per frame the coverage and the IoU against the clip's own mask where it has one.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../engine/files.ts";
import { encodeMaskPng } from "../data/images.ts";
import type { Frame } from "../data/scene.ts";
import { maskIou } from "../masks/pipeline.ts";

/** One frame's line in masks.json. */
export type MaskFrameSummary = { name: string; coverage: number; iou?: number };

/**
 * Writes `masks[f]` of each frame as `out/<name>.png`, at the size `toFile(mask, f)` returns it in (the input frame's
 * size), atomically. Coverage and IoU are of `masks[f]` itself, against `frames[f].mask` (the same size). Returns the
 * per-frame summaries and the mean IoU over the frames with a mask (undefined when none has one).
 */
export async function writeMaskPngs(
  out: string,
  frames: readonly Frame[],
  masks: readonly Uint8Array[],
  toFile: (mask: Uint8Array, f: number) => { mask: Uint8Array; h: number; w: number },
): Promise<{ frames: MaskFrameSummary[]; miou: number | undefined }> {
  const summaries: MaskFrameSummary[] = [];
  for (const [f, mask] of masks.entries()) {
    const frame = frames[f]!;
    const file = toFile(mask, f);
    writeFileAtomic(join(out, `${frame.name}.png`), await encodeMaskPng(file.mask, file.h, file.w));
    const coverage = mask.reduce((a, b) => a + b, 0) / mask.length;
    summaries.push({ name: frame.name, coverage: Number(coverage.toFixed(4)), ...(frame.mask ? { iou: Number(maskIou(mask, frame.mask).toFixed(4)) } : {}) });
  }
  const withTruth = summaries.filter((f) => f.iou !== undefined);
  const miou = withTruth.length ? withTruth.reduce((a, f) => a + f.iou!, 0) / withTruth.length : undefined;
  return { frames: summaries, miou };
}
