/**
 * The working-resolution policy for real footage and its exact inverse. Every frame of a clip is brought to the
 * model's working size `size × size` the same way:
 *
 * - `center` (default): cut the largest centred region with the working aspect (a square: the short side), at
 *   whole-pixel offsets, then resize that region to the working size. Nothing is stretched; the long side loses
 *   its two ends equally.
 * - `stretch`: resize the whole frame to the working size (the aspect changes; fx and fy scale differently).
 *
 * `CropMap` records what was done, so intrinsics move with the pixels (`cropIntrinsics`) and results computed at
 * the working size can be written back over the original frame (`regionInOriginal`). With pixel centres at +0.5
 * (src/geometry/cameras.ts) a crop at offset (x0, y0) shifts cx, cy by −x0, −y0 and a resize by s scales fx, fy,
 * cx, cy by s: both are exact, no half-pixel terms.
 */
import type { Intrinsics } from "../geometry/cameras.ts";

export const CROP_POLICIES = ["center", "stretch"] as const;
export type CropPolicy = (typeof CROP_POLICIES)[number];

/** How one frame of size `orig` became the working image of size `size`. */
export type CropMap = {
  orig: { h: number; w: number };
  /** The region of the original frame that was kept (whole pixels). */
  region: { x0: number; y0: number; w: number; h: number };
  /** Working size. */
  size: { h: number; w: number };
};

/** The crop map of a `origH × origW` frame brought to `outH × outW` with `policy`. */
export function computeCrop(origH: number, origW: number, outH: number, outW: number, policy: CropPolicy = "center"): CropMap {
  if (policy === "stretch") return { orig: { h: origH, w: origW }, region: { x0: 0, y0: 0, w: origW, h: origH }, size: { h: outH, w: outW } };
  // largest region with the output's aspect: w/h = outW/outH
  let w = origW;
  let h = Math.round((origW * outH) / outW);
  if (h > origH) {
    h = origH;
    w = Math.round((origH * outW) / outH);
  }
  const x0 = Math.floor((origW - w) / 2);
  const y0 = Math.floor((origH - h) / 2);
  return { orig: { h: origH, w: origW }, region: { x0, y0, w, h }, size: { h: outH, w: outW } };
}

/** Pixel intrinsics of the original frame → pixel intrinsics of the working image. */
export function cropIntrinsics(k: Readonly<Intrinsics>, map: CropMap): Intrinsics {
  const sx = map.size.w / map.region.w;
  const sy = map.size.h / map.region.h;
  return [k[0] * sx, k[1] * sy, (k[2] - map.region.x0) * sx, (k[3] - map.region.y0) * sy];
}

/** Inverse of `cropIntrinsics`: working-image intrinsics → the original frame's. */
export function uncropIntrinsics(k: Readonly<Intrinsics>, map: CropMap): Intrinsics {
  const sx = map.size.w / map.region.w;
  const sy = map.size.h / map.region.h;
  return [k[0] / sx, k[1] / sy, k[2] / sx + map.region.x0, k[3] / sy + map.region.y0];
}

/** A working-image pixel position (x, y), pixel centres at +0.5, in the original frame's pixel coordinates. */
export function workingToOriginal(x: number, y: number, map: CropMap): [number, number] {
  return [(x * map.region.w) / map.size.w + map.region.x0, (y * map.region.h) / map.size.h + map.region.y0];
}

/**
 * A working-size binary mask brought back to its original frame: bilinear on the 0/1 values inside the kept region,
 * thresholded at 0.5; pixels outside the region (cropped away) are 0. Returns [orig.h, orig.w].
 */
export function uncropMask(mask: ArrayLike<number>, map: CropMap): Uint8Array {
  const { orig, region, size } = map;
  const out = new Uint8Array(orig.h * orig.w);
  const at = (x: number, y: number) => (mask[Math.min(size.h - 1, Math.max(0, y)) * size.w + Math.min(size.w - 1, Math.max(0, x))]! > 0 ? 1 : 0);
  for (let y = region.y0; y < region.y0 + region.h; y++) {
    // working-image coordinate of this pixel's centre, relative to working pixel centres
    const wy = ((y + 0.5 - region.y0) * size.h) / region.h - 0.5;
    const y0 = Math.floor(wy);
    const fy = wy - y0;
    for (let x = region.x0; x < region.x0 + region.w; x++) {
      const wx = ((x + 0.5 - region.x0) * size.w) / region.w - 0.5;
      const x0 = Math.floor(wx);
      const fx = wx - x0;
      const v = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
      out[y * orig.w + x] = v >= 0.5 ? 1 : 0;
    }
  }
  return out;
}

/**
 * An original-size binary mask brought to the working size: each working pixel gets the fraction of the original
 * pixels under its footprint (inside the kept region) that are set, in [0, 1]. Returns [size.h, size.w]. With a
 * threshold of 0.5 this is close to an inverse of `uncropMask`; a lower one keeps thin movers.
 */
export function cropMask(mask: ArrayLike<number>, map: CropMap): Float32Array {
  const { orig, region, size } = map;
  if (mask.length !== orig.h * orig.w) throw new Error(`cropMask: ${mask.length} values for a ${orig.w}×${orig.h} frame`);
  const sum = new Float32Array(size.h * size.w);
  const count = new Float32Array(size.h * size.w);
  for (let y = region.y0; y < region.y0 + region.h; y++) {
    const wy = Math.min(size.h - 1, Math.floor(((y - region.y0) * size.h) / region.h));
    for (let x = region.x0; x < region.x0 + region.w; x++) {
      const wx = Math.min(size.w - 1, Math.floor(((x - region.x0) * size.w) / region.w));
      const i = wy * size.w + wx;
      count[i]! += 1;
      if (mask[y * orig.w + x]! > 0) sum[i]! += 1;
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] = count[i]! > 0 ? sum[i]! / count[i]! : 0;
  return sum;
}
