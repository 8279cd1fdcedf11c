/**
 * `Clip`: real footage (or a stored scene) brought to the model's working size, the one type every command that
 * reads user input takes (render, masks, eval, fit). It is a `Scene` (frames with names, images, optional masks
 * and cameras, all at the working size) plus where it came from and how each frame was cropped, so results can
 * be written back at the input's size under the input's frame names. Readers live in `readers/` (Node only).
 */
import type { CropMap, CropPolicy } from "./crop.ts";
import type { Scene } from "./scene.ts";

export const CLIP_FORMATS = ["video", "images", "davis", "llff", "scene"] as const;
export type ClipFormat = (typeof CLIP_FORMATS)[number];

export type Clip = Scene & {
  format: ClipFormat;
  /** The path the clip was read from. */
  source: string;
  /** Per frame: how the original frame became the working image (frames may differ in size). */
  crops: CropMap[];
  /** The working-size policy used. */
  crop: CropPolicy;
  /** Things a user should know (mixed sizes resized, depth dropped, converted PNG kinds, …). */
  warnings: string[];
  /** For videos: which ffmpeg decoded it. */
  decoder?: string;
};

/** Options shared by every reader. */
export type ReadClipOptions = {
  /** Working size (square), e.g. the model preset's image size. */
  size: number;
  crop?: CropPolicy;
  /** Force a reader instead of detecting it from the path. */
  format?: ClipFormat;
  /** Keep every `stride`-th frame (default 1). */
  stride?: number;
  /** Keep at most this many frames (after the stride). */
  maxFrames?: number;
  /** Videos: start time and duration in seconds. */
  start?: number;
  duration?: number;
  /** Frames of different sizes are an error instead of a warning. */
  strict?: boolean;
  /** DAVIS root folders: which sequence to read. */
  sequence?: string;
  /**
   * Keep every frame at its own full size (no crop, no resize; `size` and `crop` are then not used): for work done
   * at the input's resolution (the warp static renderer). All frames must have one size.
   */
  native?: boolean;
};
