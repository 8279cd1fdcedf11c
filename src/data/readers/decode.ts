/**
 * Decoding one frame or mask file straight to the working size (sharp): EXIF orientation applied, alpha
 * flattened onto black, grey expanded to RGB, 16-bit samples reduced to 8 bits, then the crop of `crop.ts` and a
 * Lanczos resize. Masks: a pixel is moving when any channel is clearly not black (≥ 64 of 255, so both 0/255
 * masks and DAVIS's palette-coloured object ids count), and the resized mask is thresholded at one half.
 * Truncated or corrupt files fail with a one-line error naming the file (sharp's `failOn: "warning"`).
 */
import sharp from "sharp";
import { WildrayzerError } from "../../engine/errors.ts";
import { computeCrop, type CropMap, type CropPolicy } from "../crop.ts";

export type WorkingFrame = { image: Float32Array; crop: CropMap; note?: string };

/** Full-size oriented RGB bytes of an image file, [h, w, 3] uint8, plus what kind of image it was. */
async function rgbFull(bytes: Uint8Array, file: string): Promise<{ data: Uint8Array; h: number; w: number; kind: string }> {
  return wrap(file, async () => {
    const meta = await sharp(bytes, { failOn: "warning" }).metadata();
    const kinds: string[] = [];
    if (meta.channels === 1 || meta.channels === 2) kinds.push("greyscale");
    if (meta.hasAlpha) kinds.push("alpha");
    if (meta.depth === "ushort") kinds.push("16-bit");
    const { data, info } = await sharp(bytes, { failOn: "warning" })
      .rotate()
      .flatten({ background: "#000000" })
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), h: info.height, w: info.width, kind: kinds.join(", ") };
  });
}

/**
 * An image file → planar float RGB [3, size, size] in [0, 1] and its crop map; with `size` "native", the whole frame
 * at its own size (the crop map is then the identity).
 */
export async function decodeFrameToWorking(bytes: Uint8Array, file: string, size: number | "native", policy: CropPolicy): Promise<WorkingFrame> {
  const full = await rgbFull(bytes, file);
  const crop = size === "native" ? computeCrop(full.h, full.w, full.h, full.w, "stretch") : computeCrop(full.h, full.w, size, size, policy);
  const out =
    size === "native"
      ? full.data
      : await wrap(file, () =>
          sharp(full.data, { raw: { width: full.w, height: full.h, channels: 3 } })
            .extract({ left: crop.region.x0, top: crop.region.y0, width: crop.region.w, height: crop.region.h })
            .resize(size, size, { fit: "fill", kernel: "lanczos3" })
            .raw()
            .toBuffer(),
        );
  const n = crop.size.h * crop.size.w;
  const image = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) image[c * n + i] = out[3 * i + c]! / 255;
  return { image, crop, ...(full.kind ? { note: `${full.kind} image converted to 8-bit RGB` } : {}) };
}

/** A mask file of the frame's original size → [size, size] with 1 = moving, through the frame's crop map. */
export async function decodeMaskToWorking(bytes: Uint8Array, file: string, crop: CropMap): Promise<Uint8Array> {
  const full = await rgbFull(bytes, file);
  if (full.h !== crop.orig.h || full.w !== crop.orig.w) {
    throw new WildrayzerError(`${file}: mask is ${full.w}×${full.h} (w×h) but its frame is ${crop.orig.w}×${crop.orig.h}`);
  }
  const bin = new Uint8Array(full.h * full.w);
  for (let i = 0; i < bin.length; i++) bin[i] = Math.max(full.data[3 * i]!, full.data[3 * i + 1]!, full.data[3 * i + 2]!) >= 64 ? 255 : 0;
  const { h, w } = crop.size;
  const out = await wrap(file, () =>
    sharp(bin, { raw: { width: full.w, height: full.h, channels: 1 } })
      .extract({ left: crop.region.x0, top: crop.region.y0, width: crop.region.w, height: crop.region.h })
      .resize(w, h, { fit: "fill", kernel: "linear" })
      .extractChannel(0) // sharp widens a one-channel raw input to sRGB unless told otherwise
      .raw()
      .toBuffer(),
  );
  return Uint8Array.from(out.subarray(0, h * w), (v) => (v >= 128 ? 1 : 0));
}

/** Planar float [c, h, w] at one size → the same at another (Lanczos; for stored scenes not at the working size). */
export async function resizePlanar(src: Float32Array, c: number, h: number, w: number, crop: CropMap): Promise<Float32Array> {
  const n = h * w;
  const hwc = new Uint8Array(n * c);
  for (let k = 0; k < c; k++) for (let i = 0; i < n; i++) hwc[c * i + k] = Math.round(Math.min(1, Math.max(0, src[k * n + i]!)) * 255);
  const { h: oh, w: ow } = crop.size;
  let pipe = sharp(hwc, { raw: { width: w, height: h, channels: c as 1 | 3 } })
    .extract({ left: crop.region.x0, top: crop.region.y0, width: crop.region.w, height: crop.region.h })
    .resize(ow, oh, { fit: "fill", kernel: c === 1 ? "linear" : "lanczos3" });
  if (c === 1) pipe = pipe.extractChannel(0); // sharp widens a one-channel raw input to sRGB unless told otherwise
  const out = await pipe.raw().toBuffer();
  const m = oh * ow;
  const res = new Float32Array(c * m);
  for (let k = 0; k < c; k++) for (let i = 0; i < m; i++) res[k * m + i] = out[c * i + k]! / 255;
  return res;
}

async function wrap<T>(file: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof WildrayzerError) throw err;
    const why = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ").replace(/:\s*$/, "");
    throw new WildrayzerError(`${file}: cannot decode image (${why})`, { cause: err });
  }
}
