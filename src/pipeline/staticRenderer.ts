/**
 * `StaticRenderer`: anything that can show a clip's frames without what moves in them, the reference the
 * pseudo-mask pipeline (src/masks) compares each target frame with ("motion is what a static renderer cannot
 * explain"). Frames are planar float32 RGB [3, h, w] in [0, 1] at any size (not necessarily square); the renderer
 * returns one static rendering per requested target, at the frame's size. Implementations: the classical
 * motion-compensated `warp` renderer (warpRenderer.ts) and the learned RayZer (wrapped by the pipeline's clip masks).
 */

/** A clip's frames at one size, planar [3, h, w] in [0, 1]. */
export type FrameStack = { frames: readonly Float32Array[]; h: number; w: number };

export type StaticRenderer = {
  /** Short name for reports and `masks.json` (`warp`, `model`). */
  readonly name: string;
  /**
   * Static renderings of frames `targets` (indices into `clip.frames`), each [3, h, w] at the clip's size, in the
   * order asked. `onProgress` reports targets done.
   */
  render(clip: FrameStack, targets: readonly number[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]>;
};
