/**
 * Copy-paste augmentation (WildRayZer stage 3's synthetic transients): moving-object segments cut out of other
 * scenes are pasted into every view of a sample at random, independent places and sizes, so the model learns to
 * drop them. Takes a sample's planar images [v, 3, h, w] and a pool of segments; returns the pasted images, the
 * per-view union of the pasted objects' masks [v, h, w] and where each object went. The official code pastes COCO
 * instances; ours are the movers of generated dynamic scenes (`synthSegments`) or of any scene with motion masks
 * (`segmentsOf`). What is followed from the official code, and where ours differs: docs/METHOD.md §9
 * ("Copy-paste augmentation").
 */
import { z } from "zod";
import { interpolationMatrix } from "../engine/image.ts";
import type { Rng } from "../engine/rng.ts";
import type { SynthConfig } from "./config.ts";
import type { Scene } from "./scene.ts";
import { generateScene } from "./synth/index.ts";

const range = (item: z.ZodNumber, what: string) =>
  z.tuple([item, item]).refine(([lo, hi]) => lo <= hi, { message: `${what} must be [lo, hi] with lo ≤ hi` });

export const CopyPasteConfigSchema = z.strictObject({
  /** Probability that a sample is pasted at all (then every view of it is). */
  probability: z.number().min(0).max(1),
  /** [min, max] objects per paste, drawn uniformly (inclusive). */
  objects: z
    .tuple([z.int().min(1).max(16), z.int().min(1).max(16)])
    .refine(([lo, hi]) => lo <= hi, { message: "objects must be [min, max] with min ≤ max" }),
  /** Probability that each view draws its own objects; otherwise the same objects go into every view. */
  perViewProbability: z.number().min(0).max(1),
  /** [lo, hi] of s: an object is resized to fit an s·W × s·H box, keeping its aspect. */
  scale: range(z.number().positive().max(1), "scale"),
  /** [lo, hi] of the object's top-left corner as a fraction of the width (x) and height (y). */
  corner: range(z.number().min(0).max(1), "corner"),
});

export type CopyPasteConfig = z.infer<typeof CopyPasteConfigSchema>;

/** The official stage-3 settings (wild-rayzer `configs/wildrayzer_stage3_joint_copy_paste.yaml`, docs/METHOD.md §9). */
export const DEFAULT_COPY_PASTE: CopyPasteConfig = {
  probability: 0.8, // per sample
  objects: [1, 2], // n ~ U{1, 2}
  perViewProbability: 0.5, // per sample: own objects per view, else shared
  scale: [0.25, 0.35], // s ~ U[0.25, 0.35] of the image side
  corner: [0.15, 0.85], // top-left corner ~ U[0.15, 0.85] of the image side (a 0.15 margin)
};

/** A paste-able object: a tight crop of an image and its binary mask. */
export type Segment = {
  h: number;
  w: number;
  /** [3, h, w] planar RGB in [0, 1]. */
  image: Float32Array;
  /** [h, w] 1 on the object, 0 around it. */
  mask: Uint8Array;
  /** Where it was cut from: the frame index and the crop's top-left pixel (diagnostics). */
  origin?: { frame: number; x: number; y: number };
};

/** One pasted object: into `view`, segment `segment` of the pool, top-left pixel (x, y), resized to h × w. */
export type Placement = { view: number; segment: number; x: number; y: number; h: number; w: number };

export type CopyPasteResult = {
  /** [v, 3, h, w] a new array: the pasted images (a plain copy when not pasted). */
  images: Float32Array;
  /** [v, h, w] per-view union of the pasted objects' masks; all zeros when not pasted. */
  masks: Uint8Array;
  pasted: boolean;
  /** Every pasted object in paste order (later ones cover earlier ones). */
  placements: Placement[];
};

/**
 * The pasted size of an sh × sw segment at scale s in an H × W image: the largest size that keeps its aspect
 * inside an s·W × s·H box, truncated to whole pixels (at least 1), with the official code's arithmetic.
 */
export function fitSize(sh: number, sw: number, H: number, W: number, s: number): { h: number; w: number } {
  const boxW = Math.max(1, Math.trunc(W * s));
  const boxH = Math.max(1, Math.trunc(H * s));
  const f = Math.min(boxW / sw, boxH / sh);
  return { h: Math.max(1, Math.trunc(sh * f)), w: Math.max(1, Math.trunc(sw * f)) };
}

/** The ≤ 2 taps of each output sample of 1-D linear interpolation (engine/image.ts's half-pixel convention). */
function linearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; t: Float32Array } {
  const m = interpolationMatrix(inSize, outSize); // [outSize, inSize]
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), t = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const row = o * inSize;
    let first = -1;
    for (let i = 0; i < inSize; i++) if (m[row + i] !== 0) { if (first < 0) first = i; i1[o] = i; }
    i0[o] = first;
    t[o] = i1[o] === first ? 0 : m[row + i1[o]!]!; // weight of the second tap
  }
  return { i0, i1, t };
}

/**
 * Bilinear resize of planar [c, h, w] to [c, oh, ow] on the host: half-pixel centres, edge clamping, no
 * anti-aliasing (OpenCV `INTER_LINEAR`, PyTorch `align_corners=False`), the same weights as engine/image.ts.
 */
export function resizeBilinearPlanar(src: Float32Array, c: number, h: number, w: number, oh: number, ow: number): Float32Array {
  const ty = linearTaps(h, oh), tx = linearTaps(w, ow);
  const out = new Float32Array(c * oh * ow);
  for (let k = 0; k < c; k++) {
    const plane = k * h * w;
    for (let y = 0; y < oh; y++) {
      const r0 = plane + ty.i0[y]! * w, r1 = plane + ty.i1[y]! * w, a = ty.t[y]!;
      for (let x = 0; x < ow; x++) {
        const x0 = tx.i0[x]!, x1 = tx.i1[x]!, b = tx.t[x]!;
        const top = src[r0 + x0]! * (1 - b) + src[r0 + x1]! * b;
        const bottom = src[r1 + x0]! * (1 - b) + src[r1 + x1]! * b;
        out[(k * oh + y) * ow + x] = top * (1 - a) + bottom * a;
      }
    }
  }
  return out;
}

/** Nearest resize of a [h, w] mask to [oh, ow] as OpenCV `INTER_NEAREST` does it: source index floor(i · in/out). */
export function resizeNearestMask(mask: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const out = new Uint8Array(oh * ow);
  const sy = h / oh, sx = w / ow;
  for (let y = 0; y < oh; y++) {
    const row = Math.min(Math.floor(y * sy), h - 1) * w;
    for (let x = 0; x < ow; x++) out[y * ow + x] = mask[row + Math.min(Math.floor(x * sx), w - 1)]!;
  }
  return out;
}

/** `seg` resized to oh × ow: pixels bilinear, mask nearest (so it stays binary). */
export function resizeSegment(seg: Segment, oh: number, ow: number): Segment {
  return { h: oh, w: ow, image: resizeBilinearPlanar(seg.image, 3, seg.h, seg.w, oh, ow), mask: resizeNearestMask(seg.mask, seg.h, seg.w, oh, ow) };
}

/**
 * Hard alpha composite of `seg` (already at its pasted size) with its top-left pixel at (x, y): where its mask is
 * 1 the pixel is replaced, and the mask pixel set to 1; the parts outside the image are clipped. Writes into
 * `image` [3, H, W] and `mask` [H, W]; everything else is left bitwise unchanged.
 */
export function pasteSegment(image: Float32Array, mask: Uint8Array, H: number, W: number, seg: Segment, x: number, y: number): void {
  const px = H * W, spx = seg.h * seg.w;
  const y0 = Math.max(0, y), y1 = Math.min(H, y + seg.h);
  const x0 = Math.max(0, x), x1 = Math.min(W, x + seg.w);
  for (let ty = y0; ty < y1; ty++) {
    for (let tx = x0; tx < x1; tx++) {
      const s = (ty - y) * seg.w + (tx - x);
      if (seg.mask[s] === 0) continue;
      const t = ty * W + tx;
      mask[t] = 1;
      for (let k = 0; k < 3; k++) image[k * px + t] = seg.image[k * spx + s]!;
    }
  }
}

/**
 * Copy-paste on one sample, every random choice from `rng` in the official code's order: paste or not
 * (`probability`), own objects per view or shared (`perViewProbability`), then per view the object count n and
 * the n segments (once, up front, when shared) and per object its corner x, y and scale s.
 * Shapes: v views, h w pixels. `images` [v, 3, h, w] is read, never written; `segments` must not be empty.
 */
export function copyPaste(rng: Rng, images: Float32Array, v: number, h: number, w: number, segments: readonly Segment[], cfg: CopyPasteConfig): CopyPasteResult {
  if (images.length !== v * 3 * h * w) throw new Error(`copyPaste: images has ${images.length} values, [${v}, 3, ${h}, ${w}] needs ${v * 3 * h * w}`);
  const out = images.slice(); // [v, 3, h, w]
  const masks = new Uint8Array(v * h * w); // [v, h, w]
  const placements: Placement[] = [];
  if (!(rng.next() < cfg.probability)) return { images: out, masks, pasted: false, placements };
  if (segments.length === 0) throw new Error("copyPaste: the segment pool is empty");
  const perView = rng.next() < cfg.perViewProbability;
  const [nLo, nHi] = cfg.objects;
  const drawObjects = (): number[] => Array.from({ length: nLo + rng.int(nHi - nLo + 1) }, () => rng.int(segments.length));
  const shared = perView ? undefined : drawObjects();
  const [c0, c1] = cfg.corner, [s0, s1] = cfg.scale;
  for (let view = 0; view < v; view++) {
    const image = out.subarray(view * 3 * h * w, (view + 1) * 3 * h * w); // [3, h, w]
    const mask = masks.subarray(view * h * w, (view + 1) * h * w); // [h, w]
    for (const segment of shared ?? drawObjects()) {
      const x = Math.trunc(rng.uniform(c0 * w, c1 * w));
      const y = Math.trunc(rng.uniform(c0 * h, c1 * h));
      const seg = segments[segment]!;
      const size = fitSize(seg.h, seg.w, h, w, rng.uniform(s0, s1));
      pasteSegment(image, mask, h, w, resizeSegment(seg, size.h, size.w), x, y);
      placements.push({ view, segment, x, y, h: size.h, w: size.w });
    }
  }
  return { images: out, masks, pasted: true, placements };
}

/**
 * The paste-able segments of a scene: one per 8-connected region of each frame's motion mask with at least
 * `minPixels` pixels (frames without a mask give none), cropped to the region's tight bounding box; the crop's
 * mask holds only that region. Two movers that touch in a frame make one segment.
 */
export function segmentsOf(scene: Pick<Scene, "h" | "w" | "frames">, minPixels = 4): Segment[] {
  const { h, w } = scene;
  const px = h * w;
  const segments: Segment[] = [];
  const label = new Int32Array(px);
  const stack = new Int32Array(px);
  scene.frames.forEach((frame, f) => {
    const m = frame.mask;
    if (!m) return;
    label.fill(0);
    let next = 0;
    for (let start = 0; start < px; start++) {
      if (m[start] === 0 || label[start] !== 0) continue;
      const id = ++next;
      let top = 0, count = 0;
      let yMin = h, yMax = -1, xMin = w, xMax = -1;
      stack[top++] = start;
      label[start] = id;
      while (top > 0) {
        const p = stack[--top]!;
        const py = Math.floor(p / w), pxl = p - py * w;
        count++;
        yMin = Math.min(yMin, py); yMax = Math.max(yMax, py); xMin = Math.min(xMin, pxl); xMax = Math.max(xMax, pxl);
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const ny = py + dy, nx = pxl + dx;
          if (ny < 0 || ny >= h || nx < 0 || nx >= w) continue;
          const q = ny * w + nx;
          if (m[q] !== 0 && label[q] === 0) { label[q] = id; stack[top++] = q; }
        }
      }
      if (count < minPixels) continue;
      const sh = yMax - yMin + 1, sw = xMax - xMin + 1;
      const image = new Float32Array(3 * sh * sw); // [3, sh, sw]
      const mask = new Uint8Array(sh * sw); // [sh, sw]
      for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
        const p = (y + yMin) * w + x + xMin;
        mask[y * sw + x] = label[p] === id ? 1 : 0;
        for (let k = 0; k < 3; k++) image[(k * sh + y) * sw + x] = frame.image[k * px + p]!;
      }
      segments.push({ h: sh, w: sw, image, mask, origin: { frame: f, x: xMin, y: yMin } });
    }
  });
  return segments;
}

/**
 * The segments of generated dynamic scene `seed` (`generateScene` with `cfg`, at least one mover forced): its
 * movers as seen in each frame. Use seeds of scenes other than the one being pasted into. A scene whose movers all
 * stay out of view (or under `minPixels`) gives none; pool a few seeds.
 */
export function synthSegments(seed: number, cfg: SynthConfig, minPixels = 4): Segment[] {
  const movers: [number, number] = [Math.max(1, cfg.movers[0]), Math.max(1, cfg.movers[1])];
  return segmentsOf(generateScene(seed, { ...cfg, movers }), minPixels);
}
