import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import sharp from "sharp";
import {
  DEPTH_PNG_SCALE,
  decodeDepth16,
  decodeImage,
  decodeMask,
  encodeDepthPng16,
  encodeMaskPng,
  encodePng,
} from "../../src/data/images.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";

/** PNG header fields and unfiltered rows, read with zlib only (independent of sharp). Expects filter type 0. */
function parsePng(png: Uint8Array): { w: number; h: number; bitDepth: number; colourType: number; rows: Buffer[]; chunks: string[] } {
  const b = Buffer.from(png);
  assert.equal(b.toString("latin1", 1, 4), "PNG", "PNG signature");
  let off = 8;
  const idat: Buffer[] = [];
  const chunks: string[] = [];
  let w = 0, h = 0, bitDepth = 0, colourType = 0;
  while (off < b.length) {
    const len = b.readUInt32BE(off);
    const type = b.toString("latin1", off + 4, off + 8);
    chunks.push(type);
    const body = b.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") [w, h, bitDepth, colourType] = [body.readUInt32BE(0), body.readUInt32BE(4), body[8]!, body[9]!];
    if (type === "IDAT") idat.push(body);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const channels = { 0: 1, 2: 3 }[colourType as 0 | 2];
  const stride = 1 + (w * channels * bitDepth) / 8;
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) {
    assert.equal(raw[y * stride], 0, `row ${y} uses filter type 0`);
    rows.push(raw.subarray(y * stride + 1, (y + 1) * stride));
  }
  return { w, h, bitDepth, colourType, rows, chunks };
}

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WildrayzerError, `expected a WildrayzerError, got ${String(err)}`);
    assert.match(err.message, re);
    assert.doesNotMatch(err.message, /\n/, "one line");
    return true;
  });
}

describe("encodePng", () => {
  // 2×3 image (h = 2, w = 3), planar: channel r then g then b, each row-major.
  const h = 2, w = 3;
  const r = [0, 0.5, 1, 1.2, -0.1, 0.2];
  const g = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
  const bl = [1, 1, 1, 0, 0, 0];
  const image = Float32Array.from([...r, ...g, ...bl]);

  it("writes 8-bit RGB rows: round(clamp(x)·255), interleaved per pixel", async () => {
    const png = parsePng(await encodePng(image, h, w));
    assert.deepEqual([png.w, png.h, png.bitDepth, png.colourType], [3, 2, 8, 2]);
    const q = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 255);
    const row = (y: number) => [0, 1, 2].flatMap((x) => [q(r[y * w + x]!), q(g[y * w + x]!), q(bl[y * w + x]!)]);
    assert.deepEqual([...png.rows[0]!], row(0));
    assert.deepEqual([...png.rows[1]!], [255, 102, 0, 0, 128, 0, 51, 153, 0]);
    assert.deepEqual([...png.rows[1]!], row(1));
    assert.ok(!png.chunks.some((c) => c === "tIME" || c === "tEXt" || c === "iTXt" || c === "eXIf"), `no metadata chunks: ${png.chunks}`);
  });

  it("is byte-identical across calls and decodes back within half a quantisation step", async () => {
    const a = await encodePng(image, h, w);
    const b = await encodePng(Float32Array.from(image), h, w);
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
    const d = await decodeImage(a, "x.png");
    assert.deepEqual([d.h, d.w], [2, 3]);
    d.image.forEach((v, i) => {
      const want = Math.min(1, Math.max(0, image[i]!));
      assert.ok(Math.abs(v - want) <= 0.5 / 255 + 1e-7, `value ${i}: ${v} vs ${want}`);
    });
  });
});

describe("masks and depth", () => {
  it("a mask is stored as 0/255 grey and read back exactly (nonzero → 1)", async () => {
    const mask = Uint8Array.from([0, 1, 7, 0, 0, 1]);
    const png = await encodeMaskPng(mask, 2, 3);
    const parsed = parsePng(png);
    assert.deepEqual([parsed.bitDepth, parsed.colourType], [8, 0]);
    assert.deepEqual([...Buffer.concat(parsed.rows)], [0, 255, 255, 0, 0, 255]);
    assert.deepEqual([...(await decodeMask(png, "m.png"))], [0, 1, 1, 0, 0, 1]);
  });

  it("depth is 16-bit grey in millimetres, big-endian in the file, clipped to [0, 65535]", async () => {
    const depth = Float32Array.from([0, 1.2345, 2.0004, 65.535, 70, -1, Infinity, NaN]);
    const png = await encodeDepthPng16(depth, 2, 4);
    const parsed = parsePng(png);
    assert.deepEqual([parsed.w, parsed.h, parsed.bitDepth, parsed.colourType], [4, 2, 16, 0]);
    const all = Buffer.concat(parsed.rows);
    const stored = Array.from({ length: 8 }, (_, i) => all.readUInt16BE(2 * i));
    assert.deepEqual(stored, [0, 1235, 2000, 65535, 65535, 0, 65535, 65535]);
    const back = await decodeDepth16(png, "d.png");
    assert.deepEqual([...back], stored.map((v) => Math.fround(v / DEPTH_PNG_SCALE)));
  });

  it("decodeDepth16 refuses an 8-bit PNG, naming the file", async () => {
    const png = await encodeMaskPng(new Uint8Array(4), 2, 2);
    await rejectsWith(decodeDepth16(png, "depth/00001.png"), /^depth\/00001\.png: depth must be a 16-bit single-channel \(grey\) PNG, got 1-channel 8-bit$/);
  });
});

describe("decodeImage", () => {
  it("expands grey to RGB and drops alpha", async () => {
    const grey = await sharp(Uint8Array.from([0, 51, 255, 102]), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
    const g = await decodeImage(grey, "g.png");
    assert.deepEqual([...g.image].map((v) => Math.round(v * 255)), [0, 51, 255, 102, 0, 51, 255, 102, 0, 51, 255, 102]);
    const rgba = await sharp(Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 255]), { raw: { width: 2, height: 1, channels: 4 } })
      .png()
      .toBuffer();
    const c = await decodeImage(rgba, "c.png");
    assert.deepEqual([...c.image].map((v) => Math.round(v * 255)), [10, 40, 20, 50, 30, 60]);
  });

  it("scales 16-bit samples by 1/65535", async () => {
    const rgb16 = Uint16Array.from([0, 65535, 1000, 30000, 257, 65534]);
    const png = await sharp(rgb16, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace("rgb16").png().toBuffer();
    const d = await decodeImage(png, "x16.png");
    const planar = [0, 30000, 65535, 257, 1000, 65534];
    d.image.forEach((v, i) => assert.ok(Math.abs(v - planar[i]! / 65535) < 1e-7, `sample ${i}: ${v * 65535} vs ${planar[i]}`));
  });

  it("reads other formats sharp knows (lossless WebP)", async () => {
    const webp = await sharp(Uint8Array.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();
    const d = await decodeImage(webp, "x.webp");
    assert.deepEqual([...d.image].map((v) => Math.round(v * 255)), [255, 0, 0, 0, 0, 255]);
  });

  it("corrupt or truncated bytes and a wrong size give one line naming the file", async () => {
    const good = await encodePng(new Float32Array(3 * 4 * 5), 4, 5);
    await rejectsWith(decodeImage(new TextEncoder().encode("not a png"), "images/00002.png"), /^images\/00002\.png: cannot decode image \(/);
    await rejectsWith(decodeImage(good.subarray(0, 30), "images/00003.png"), /^images\/00003\.png: cannot decode image/);
    await rejectsWith(decodeImage(good, "images/00004.png", { h: 4, w: 4 }), /^images\/00004\.png: image is 5×4 \(w×h\), expected 4×4$/);
    await rejectsWith(decodeMask(good, "masks/00004.png", { h: 5, source: "scene.json h/w" }), /^masks\/00004\.png: image is 5×4 \(w×h\), expected 5×5 \(as scene.json h\/w\)$/);
  });
});
