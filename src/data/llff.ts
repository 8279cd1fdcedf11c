/**
 * LLFF's `poses_bounds.npy` → our cameras. Each row holds 17 numbers: a 3×5 matrix in row-major order whose first
 * three columns are the camera-to-world rotation with LLFF's axis order [down, right, backwards], the fourth the
 * camera centre, and the fifth [height, width, focal] of the full-size images; then the near and far depth bounds.
 * Our convention is OpenCV (src/geometry/cameras.ts: x right, y down, z forward), so the columns become
 * x = LLFF col 1, y = LLFF col 0, z = −LLFF col 2. The focal is in pixels of the full-size images: it is scaled by
 * the loaded image's width over LLFF's width (LLFF's `images_8/` etc. are downsampled copies), and the principal
 * point is the image centre, as LLFF assumes. Reference: LLFF `poses_bounds.npy` description, NeRF `load_llff.py`.
 */
import { WildrayzerError } from "../engine/errors.ts";
import type { Camera } from "../geometry/cameras.ts";
import type { NpyArray } from "./npy.ts";

export type LlffPoses = {
  /** Cameras in pixels of an image of the loaded size `h × w`. */
  cameras: Camera[];
  /** Near and far depth bounds per frame. */
  bounds: [number, number][];
  /** LLFF's stored full-size image height and width. */
  fullSize: { h: number; w: number };
};

/** Converts a parsed poses_bounds array to cameras for images loaded at `h × w`. */
export function llffCameras(npy: NpyArray, h: number, w: number, file: string): LlffPoses {
  if (npy.shape.length !== 2 || npy.shape[1] !== 17) {
    throw new WildrayzerError(`${file}: poses_bounds.npy must have shape (N, 17), got (${npy.shape.join(", ")})`);
  }
  const n = npy.shape[0]!;
  const cameras: Camera[] = [];
  const bounds: [number, number][] = [];
  let fullSize = { h: 0, w: 0 };
  for (let i = 0; i < n; i++) {
    const row = npy.data.subarray(17 * i, 17 * i + 17);
    const m = (r: number, c: number) => row[5 * r + c]!;
    const [fh, fw, f] = [m(0, 4), m(1, 4), m(2, 4)];
    if (!(fh > 0 && fw > 0 && f > 0) || Array.from(row).some((v) => !Number.isFinite(v))) {
      throw new WildrayzerError(`${file}: row ${i} has a non-finite value or a non-positive height, width or focal`);
    }
    fullSize = { h: fh, w: fw };
    const c2w = [
      m(0, 1), m(0, 0), -m(0, 2), m(0, 3),
      m(1, 1), m(1, 0), -m(1, 2), m(1, 3),
      m(2, 1), m(2, 0), -m(2, 2), m(2, 3),
      0, 0, 0, 1,
    ];
    const sx = w / fw;
    const sy = h / fh;
    cameras.push({ c2w, fxfycxcy: [f * sx, f * sy, w / 2, h / 2] });
    bounds.push([row[15]!, row[16]!]);
  }
  return { cameras, bounds, fullSize };
}
