/**
 * Image files ↔ the arrays of a `Scene` (src/data/scene.ts), through sharp. Encoders write PNG only and are
 * deterministic: the same array gives the same bytes on every run (fixed zlib level and filter, no palette, no
 * timestamps; sharp writes no metadata unless asked). Decoders read any format sharp reads and return planar
 * float32 images `[3, h, w]` in [0, 1], binary masks `[h, w]` or depth `[h, w]`. Every decoding failure (corrupt
 * bytes, wrong size, wrong kind of PNG) throws a one-line `WildrayzerError` that names the file.
 *
 * Storage conventions:
 * - colour: 8-bit sRGB PNG, value = round(clamp(x, 0, 1) · 255), so a round trip is within 1/510 (half a step).
 * - mask: 8-bit grey PNG, 0 (static) or 255 (moving); decoding thresholds at 128.
 * - depth: 16-bit grey PNG in millimetres when a scene unit is a metre: value = round(depth · scale) with
 *   `scale = DEPTH_PNG_SCALE = 1000`, clipped to [0, 65535]. So depth is kept to ±0.5 mm up to 65.535 units;
 *   farther, infinite or missing depth (NaN) is stored as 65535 and reads back as 65.535, negative depth as 0.
 */
import sharp from "sharp";
import { WildrayzerError } from "../engine/errors.ts";

/** Depth PNG units per scene unit: millimetres when a scene unit is a metre. */
export const DEPTH_PNG_SCALE = 1000;

/** PNG settings fixed so that output bytes never depend on sharp's defaults. */
const PNG_OPTIONS = { compressionLevel: 9, adaptiveFiltering: false, palette: false, progressive: false } as const;

/** Expected size of a decoded image; a mismatch throws, naming `source` (where the size came from) if given. */
export type ExpectedSize = { h?: number; w?: number; source?: string };

/** A decoded colour image: planar `[3, h, w]` in [0, 1]. */
export type DecodedImage = { image: Float32Array; h: number; w: number };

/** Planar float RGB `image` [3, h, w] in [0, 1] → 8-bit RGB PNG bytes. Values outside [0, 1] are clipped. */
export async function encodePng(image: Float32Array, h: number, w: number): Promise<Uint8Array> {
  checkLength(image.length, 3 * h * w, "encodePng");
  const n = h * w;
  const rgb = new Uint8Array(3 * n); // [h, w, 3] interleaved, as sharp wants it
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) rgb[3 * i + c] = quantize8(image[c * n + i]!);
  }
  return toBytes(await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png(PNG_OPTIONS).toBuffer());
}

/** Binary `mask` [h, w] (nonzero = moving) → 8-bit grey PNG with values 0 and 255. */
export async function encodeMaskPng(mask: Uint8Array, h: number, w: number): Promise<Uint8Array> {
  checkLength(mask.length, h * w, "encodeMaskPng");
  const grey = new Uint8Array(h * w);
  for (let i = 0; i < grey.length; i++) grey[i] = mask[i] ? 255 : 0;
  // b-w keeps one channel; without it sharp writes the grey values as RGB.
  const img = sharp(grey, { raw: { width: w, height: h, channels: 1 } }).toColourspace("b-w");
  return toBytes(await img.png(PNG_OPTIONS).toBuffer());
}

/**
 * `depth` [h, w] in scene units → 16-bit grey PNG holding round(depth · scale), clipped to [0, 65535]; NaN and
 * +∞ become 65535 (see the file header). `scale` defaults to `DEPTH_PNG_SCALE` (millimetres).
 */
export async function encodeDepthPng16(depth: Float32Array, h: number, w: number, scale = DEPTH_PNG_SCALE): Promise<Uint8Array> {
  checkLength(depth.length, h * w, "encodeDepthPng16");
  const u16 = new Uint16Array(h * w);
  for (let i = 0; i < u16.length; i++) {
    const v = depth[i]! * scale;
    u16[i] = Number.isNaN(v) ? 65535 : Math.min(65535, Math.max(0, Math.round(v)));
  }
  // A Uint16Array input makes sharp read 16-bit samples; grey16 keeps them 16-bit in the PNG.
  const img = sharp(u16, { raw: { width: w, height: h, channels: 1 } }).toColourspace("grey16");
  return toBytes(await img.png(PNG_OPTIONS).toBuffer());
}

/**
 * Any image sharp reads → planar RGB [3, h, w] in [0, 1]. Alpha is dropped, grey is expanded to RGB, 16-bit
 * samples are divided by 65535 and 8-bit ones by 255. `fileName` names the file in errors; `expect` checks the size.
 */
export async function decodeImage(bytes: Uint8Array, fileName: string, expect: ExpectedSize = {}): Promise<DecodedImage> {
  const meta = await readMetadata(bytes, fileName);
  checkSize(meta, fileName, expect);
  const wide = meta.depth === "ushort";
  const { data, info } = await run(fileName, () =>
    sharp(bytes)
      .removeAlpha()
      .toColourspace(wide ? "rgb16" : "srgb")
      .raw(wide ? { depth: "ushort" } : {})
      .toBuffer({ resolveWithObject: true }),
  );
  const { width: w, height: h } = info;
  const n = h * w;
  const samples = wide ? u16View(data) : data;
  const max = wide ? 65535 : 255;
  const image = new Float32Array(3 * n); // [3, h, w] from [h, w, 3]
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) image[c * n + i] = samples[3 * i + c]! / max;
  }
  return { image, h, w };
}

/** A mask image (any format; the first channel, or grey of RGB) → `[h, w]` with 1 where the value is ≥ 50 %. */
export async function decodeMask(bytes: Uint8Array, fileName: string, expect: ExpectedSize = {}): Promise<Uint8Array> {
  const meta = await readMetadata(bytes, fileName);
  checkSize(meta, fileName, expect);
  const { data } = await run(fileName, () =>
    sharp(bytes).removeAlpha().toColourspace("b-w").raw().toBuffer({ resolveWithObject: true }),
  );
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = data[i]! >= 128 ? 1 : 0;
  return mask;
}

/** A 16-bit grey depth PNG → depth `[h, w]` = value / scale. Throws for anything but one 16-bit channel. */
export async function decodeDepth16(
  bytes: Uint8Array,
  fileName: string,
  expect: ExpectedSize = {},
  scale = DEPTH_PNG_SCALE,
): Promise<Float32Array> {
  const meta = await readMetadata(bytes, fileName);
  if (meta.depth !== "ushort" || meta.channels !== 1) {
    const kind = `${meta.channels}-channel ${meta.depth === "ushort" ? "16" : "8"}-bit`;
    throw new WildrayzerError(`${fileName}: depth must be a 16-bit single-channel (grey) PNG, got ${kind}`);
  }
  checkSize(meta, fileName, expect);
  const { data } = await run(fileName, () =>
    sharp(bytes).toColourspace("grey16").raw({ depth: "ushort" }).toBuffer({ resolveWithObject: true }),
  );
  const u16 = u16View(data);
  const depth = new Float32Array(u16.length);
  for (let i = 0; i < depth.length; i++) depth[i] = u16[i]! / scale;
  return depth;
}

type Metadata = { width: number; height: number; channels: number; depth: string };

async function readMetadata(bytes: Uint8Array, fileName: string): Promise<Metadata> {
  const m = await run(fileName, () => sharp(bytes).metadata());
  if (!m.width || !m.height || !m.channels) throw new WildrayzerError(`${fileName}: not a readable image (no size)`);
  return { width: m.width, height: m.height, channels: m.channels, depth: m.depth ?? "uchar" };
}

function checkSize(meta: Metadata, fileName: string, expect: ExpectedSize): void {
  const h = expect.h ?? meta.height;
  const w = expect.w ?? meta.width;
  if (meta.height !== h || meta.width !== w) {
    const from = expect.source ? ` (as ${expect.source})` : "";
    throw new WildrayzerError(`${fileName}: image is ${meta.width}×${meta.height} (w×h), expected ${w}×${h}${from}`);
  }
}

/** Runs a sharp call and turns its failure (corrupt or unsupported bytes) into a one-line error naming the file. */
async function run<T>(fileName: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ").replace(/:\s*$/, "");
    throw new WildrayzerError(`${fileName}: cannot decode image (${why})`, { cause: err });
  }
}

function quantize8(x: number): number {
  return x >= 1 ? 255 : x > 0 ? Math.round(x * 255) : 0; // NaN → 0
}

function checkLength(got: number, want: number, fn: string): void {
  if (got !== want) throw new Error(`${fn}: array has ${got} values, expected ${want}`); // a caller bug
}

/** 16-bit samples of a raw buffer (native byte order, as sharp writes them); copies when misaligned. */
function u16View(b: Uint8Array): Uint16Array {
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, b.length / 2);
  return new Uint16Array(Uint8Array.from(b).buffer);
}

/** A Node Buffer as a plain Uint8Array that owns its memory (a view when it already does, else a copy). */
function toBytes(b: Buffer): Uint8Array {
  const owns = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
  return owns ? new Uint8Array(b.buffer, 0, b.byteLength) : Uint8Array.prototype.slice.call(b);
}
