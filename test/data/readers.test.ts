import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { readClip, listImages, encodeVideo } from "../../src/data/readers/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { writeNpy } from "../../src/data/npy.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { fakeScene } from "../helpers/fakeScene.ts";
import { runCli } from "../helpers/cli.ts";
import { REAL, noReal } from "../helpers/realData.ts";

const root = mkdtempSync(join(tmpdir(), "wrz-readers-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name = "case") => {
  const d = join(root, `${name}${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** An RGB image [h, w, 3] uint8 whose pixel (x, y) is (x·k, y·k, c) for a smooth, position-coded pattern. */
function rgb(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b.set(f(x, y), 3 * (y * w + x));
  return b;
}
const png = (w: number, h: number, f: (x: number, y: number) => [number, number, number]) =>
  sharp(rgb(w, h, f), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
const jpg = (w: number, h: number, f: (x: number, y: number) => [number, number, number]) =>
  sharp(rgb(w, h, f), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();

async function rejectsLine(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WildrayzerError, `expected a WildrayzerError, got ${String(err)}`);
    assert.doesNotMatch(err.message, /\n/, "one line");
    assert.match(err.message, pattern);
    return true;
  });
}

describe("sample clips from ../shared/data/real", { skip: noReal }, () => {
  it("tennis loads as DAVIS-style frames + masks, with a small moving region in every frame", async () => {
    const c = await readClip(join(REAL, "tennis"), { size: 64 });
    assert.equal(c.format, "davis");
    assert.equal(c.frames.length, 70);
    assert.deepEqual(c.crops[0]!.orig, { h: 240, w: 432 });
    assert.deepEqual(c.crops[0]!.region, { x0: 96, y0: 0, w: 240, h: 240 });
    const fractions = c.frames.map((f) => f.mask!.reduce((a, b) => a + b, 0) / (64 * 64));
    assert.ok(fractions.every((x) => x > 0 && x < 0.3), `mask fractions ${fractions.slice(0, 5).join(", ")}`);
    assert.equal(c.frames[3]!.name, "00003");
  });

  it("lady-running loads as an image folder; stride and max-frames subsample it", async () => {
    const c = await readClip(join(REAL, "lady-running"), { size: 32, stride: 4, maxFrames: 10 });
    assert.equal(c.format, "images");
    assert.deepEqual(c.frames.map((f) => f.name).slice(0, 3), ["00000", "00004", "00008"]);
    assert.equal(c.frames.length, 10);
    assert.equal(c.frames.some((f) => f.mask || f.camera), false, "no masks or cameras in a plain folder");
  });

  it("fern's LLFF cameras form a forward-facing capture: centres near a plane, optical axes nearly parallel", async () => {
    const c = await readClip(join(REAL, "fern"), { size: 64 });
    assert.equal(c.format, "llff");
    assert.equal(c.frames.length, 20);
    const cams = c.frames.map((f) => f.camera!);
    const centres = cams.map((k) => [k.c2w[3]!, k.c2w[7]!, k.c2w[11]!]);
    const axes = cams.map((k) => [k.c2w[2]!, k.c2w[6]!, k.c2w[10]!]); // +z column: the viewing direction
    const mean = (xs: number[][]) => [0, 1, 2].map((i) => xs.reduce((a, x) => a + x[i]!, 0) / xs.length);
    const axis = mean(axes);
    const norm = Math.hypot(...axis);
    const dirs = axes.map((a) => a.reduce((s, v, i) => s + v * axis[i]!, 0) / norm);
    assert.ok(Math.min(...dirs) > Math.cos((15 * Math.PI) / 180), `every camera within 15° of the mean axis (min cos ${Math.min(...dirs)})`);
    // spread of centres along the mean axis is small compared with their spread across it
    const cm = mean(centres);
    const along = centres.map((p) => p.reduce((s, v, i) => s + (v - cm[i]!) * axis[i]!, 0) / norm);
    const across = centres.map((p, j) => Math.sqrt(Math.max(0, p.reduce((s, v, i) => s + (v - cm[i]!) ** 2, 0) - along[j]! ** 2)));
    const rms = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);
    assert.ok(rms(along) < 0.35 * rms(across), `centres near a plane facing the scene (along ${rms(along)}, across ${rms(across)})`);
    // scene points lie in front of the cameras: the bounds' depth is along +z (OpenCV forward)
    const [fx, fy, cx, cy] = cams[0]!.fxfycxcy;
    assert.ok(Math.abs(fx - fy) < 1 && Math.abs(cx - 32) < 0.2 && Math.abs(cy - 32) < 0.2, `intrinsics ${cams[0]!.fxfycxcy}`);
    // 341 px wide: the centred 256-px crop starts at x0 = 42, so the centre lands half a source pixel off (×0.25)
    assert.ok(Math.abs(cx - 32.125) < 1e-9, `cx ${cx}`);
    assert.ok(fx > 50 && fx < 90, `fern's focal at 64 px is ~69 px, got ${fx}`);
  });
});

describe("video", () => {
  it("an mp4 encoded from synthetic frames round-trips: count, order and pixels within H.264 tolerance", async () => {
    const frames: Buffer[] = [];
    for (let t = 0; t < 8; t++) {
      frames.push(await png(64, 48, (x, y) => [Math.round((x / 63) * 255), Math.round((y / 47) * 255), (t * 30) % 256]));
    }
    const file = join(fresh("video"), "clip.mp4");
    encodeVideo(frames, file, 10);
    const c = await readClip(file, { size: 48, crop: "stretch" });
    assert.equal(c.format, "video");
    assert.equal(c.frames.length, 8);
    assert.match(c.decoder!, /ffmpeg/);
    for (let t = 0; t < 8; t++) {
      const ref = await sharp(frames[t]!).resize(48, 48, { fit: "fill", kernel: "lanczos3" }).raw().toBuffer();
      const img = c.frames[t]!.image;
      let err = 0;
      for (let i = 0; i < 48 * 48; i++) for (let ch = 0; ch < 3; ch++) err += Math.abs(img[ch * 48 * 48 + i]! - ref[3 * i + ch]! / 255);
      const mae = err / (3 * 48 * 48);
      assert.ok(mae < 0.03, `frame ${t}: mean abs error ${mae.toFixed(4)}`);
    }
    const strided = await readClip(file, { size: 32, stride: 3 });
    assert.deepEqual(strided.frames.map((f) => f.name), ["00000", "00003", "00006"]);
  });

  it("a corrupt video is one clear line naming the file", async () => {
    const file = join(fresh("badvideo"), "broken.mp4");
    writeFileSync(file, Buffer.from("this is not a video at all".repeat(20)));
    await rejectsLine(readClip(file, { size: 32 }), /broken\.mp4: cannot decode video/);
  });
});

describe("image folders", () => {
  it("sorts names naturally and applies EXIF orientation", async () => {
    const d = fresh("exif");
    // 40×20 (w×h): left half red, right half blue; stored with EXIF orientation 6 (rotate 90° clockwise to view)
    const base = rgb(40, 20, (x) => (x < 20 ? [255, 0, 0] : [0, 0, 255]));
    for (const name of ["img10", "img2", "img1"]) {
      writeFileSync(join(d, `${name}.jpg`), await sharp(base, { raw: { width: 40, height: 20, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    }
    assert.deepEqual(listImages(d).map((f) => f.split("/").at(-1)), ["img1.jpg", "img2.jpg", "img10.jpg"]);
    const c = await readClip(d, { size: 20, crop: "stretch" });
    assert.deepEqual(c.crops[0]!.orig, { h: 40, w: 20 }, "oriented size is 20 wide, 40 tall");
    const px = (x: number, y: number) => [0, 1, 2].map((ch) => c.frames[0]!.image[ch * 400 + y * 20 + x]!);
    // rotating 90° clockwise puts the left (red) half on top
    assert.ok(px(10, 2)[0]! > 0.8 && px(10, 2)[2]! < 0.2, `top is red: ${px(10, 2)}`);
    assert.ok(px(10, 17)[2]! > 0.8 && px(10, 17)[0]! < 0.2, `bottom is blue: ${px(10, 17)}`);
  });

  it("greyscale, 16-bit and alpha PNGs are converted to RGB with the right values", async () => {
    const d = fresh("kinds");
    const w = 16;
    const h = 16;
    const grey = Buffer.alloc(w * h, 100);
    writeFileSync(join(d, "a.png"), await sharp(grey, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer());
    const wide = new Uint16Array(w * h * 3).fill(65535 * 0.25);
    writeFileSync(join(d, "b.png"), await sharp(Buffer.from(wide.buffer), { raw: { width: w, height: h, channels: 3, premultiplied: false } }).toColourspace("rgb16").png().toBuffer());
    const rgba = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([200, 50, 0, 255], 4 * i);
    writeFileSync(join(d, "c.png"), await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer());
    const c = await readClip(d, { size: 16 });
    const at = (f: number, ch: number) => c.frames[f]!.image[ch * 256 + 8 * 16 + 8]!;
    assert.ok(Math.abs(at(0, 0) - 100 / 255) < 0.01 && Math.abs(at(0, 2) - 100 / 255) < 0.01, `grey → equal RGB: ${at(0, 0)}`);
    assert.ok(Math.abs(at(1, 1) - 0.25) < 0.01, `16-bit quarter → 0.25: ${at(1, 1)}`);
    assert.ok(Math.abs(at(2, 0) - 200 / 255) < 0.01 && Math.abs(at(2, 1) - 50 / 255) < 0.01, `RGBA → RGB: ${at(2, 0)}`);
    assert.ok(c.warnings.some((x) => /converted/.test(x)), `a warning says what was converted: ${c.warnings}`);
  });

  it("native: every frame at its own full size (not square), pixels untouched; mixed sizes are an error", async () => {
    const d = fresh("native");
    for (let i = 0; i < 2; i++) writeFileSync(join(d, `${i}.png`), await png(24, 10, (x, y) => [x * 10, y * 20, 50 + i]));
    const c = await readClip(d, { size: 16, native: true });
    assert.deepEqual([c.w, c.h], [24, 10]);
    assert.deepEqual(c.crops[0]!.region, { x0: 0, y0: 0, w: 24, h: 10 });
    const n = 24 * 10;
    const img = c.frames[1]!.image;
    assert.equal(img[3 * 24 + 7], Math.fround((7 * 10) / 255), "R at (7, 3)");
    assert.equal(img[n + 3 * 24 + 7], Math.fround((3 * 20) / 255), "G at (7, 3)");
    assert.equal(img[2 * n], Math.fround(51 / 255), "B of frame 1");
    writeFileSync(join(d, "2.png"), await png(20, 10, () => [0, 0, 0]));
    await rejectsLine(readClip(d, { size: 16, native: true }), /different sizes .*one size/);
  });

  it("mixed frame sizes: a warning by default, an error with strict", async () => {
    const d = fresh("mixed");
    writeFileSync(join(d, "0.png"), await png(40, 30, () => [10, 20, 30]));
    writeFileSync(join(d, "1.png"), await png(50, 30, () => [10, 20, 30]));
    const c = await readClip(d, { size: 16 });
    assert.equal(c.frames.length, 2);
    assert.ok(c.warnings.some((x) => /different sizes \(40×30, 50×30\)/.test(x)), `warnings: ${c.warnings}`);
    await rejectsLine(readClip(d, { size: 16, strict: true }), /different sizes/);
  });

  it("bad folders: missing path, no images, one frame, a truncated JPEG, an unsupported file", async () => {
    await rejectsLine(readClip(join(root, "nope"), { size: 16 }), /nope: no such file or folder/);
    const empty = fresh("empty");
    writeFileSync(join(empty, "notes.txt"), "hi");
    await rejectsLine(readClip(empty, { size: 16 }), /found no video, images or known layout/);
    const one = fresh("one");
    writeFileSync(join(one, "0.png"), await png(8, 8, () => [1, 2, 3]));
    await rejectsLine(readClip(one, { size: 16 }), /only one frame found; a clip needs at least 2/);
    const trunc = fresh("trunc");
    const good = await jpg(64, 64, (x, y) => [x * 4, y * 4, 0]);
    writeFileSync(join(trunc, "0.jpg"), good);
    writeFileSync(join(trunc, "1.jpg"), good.subarray(0, Math.floor(good.length / 2)));
    await rejectsLine(readClip(trunc, { size: 16 }), /1\.jpg: cannot decode image/);
    const txt = join(fresh("txt"), "clip.txt");
    writeFileSync(txt, "x");
    await rejectsLine(readClip(txt, { size: 16 }), /unsupported file type "\.txt"/);
  });
});

describe("DAVIS masks", () => {
  it("JPEGImages/480p/<seq> + palette-coloured Annotations read as binary masks", async () => {
    const d = fresh("davis");
    const jd = join(d, "JPEGImages", "480p", "cat");
    const ad = join(d, "Annotations", "480p", "cat");
    mkdirSync(jd, { recursive: true });
    mkdirSync(ad, { recursive: true });
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(jd, `0000${i}.jpg`), await jpg(32, 32, () => [90, 90, 90]));
      // DAVIS object id 1 is drawn in (128, 0, 0): a square in the middle
      writeFileSync(join(ad, `0000${i}.png`), await png(32, 32, (x, y) => (x >= 8 && x < 24 && y >= 8 && y < 24 ? [128, 0, 0] : [0, 0, 0])));
    }
    const c = await readClip(d, { size: 32 });
    assert.equal(c.format, "davis");
    const m = c.frames[1]!.mask!;
    assert.equal(m.reduce((a, b) => a + b, 0), 256, "the 16×16 square");
    assert.equal(m[16 * 32 + 16], 1);
    assert.equal(m[2 * 32 + 2], 0);
  });

  it("masks whose count or size does not match the frames are an error", async () => {
    const d = fresh("davisbad");
    mkdirSync(join(d, "frames"));
    mkdirSync(join(d, "masks"));
    for (let i = 0; i < 3; i++) writeFileSync(join(d, "frames", `${i}.png`), await png(16, 16, () => [9, 9, 9]));
    for (let i = 0; i < 2; i++) writeFileSync(join(d, "masks", `${i}.png`), await png(16, 16, () => [0, 0, 0]));
    await rejectsLine(readClip(d, { size: 16 }), /masks: 2 masks for 3 frames \(no mask for 2\.png\)/);
    writeFileSync(join(d, "masks", "2.png"), await png(20, 16, () => [0, 0, 0]));
    await rejectsLine(readClip(d, { size: 16 }), /2\.png: mask is 20×16 \(w×h\) but its frame is 16×16/);
  });
});

describe("LLFF and scene JSON", () => {
  it("poses_bounds.npy of the wrong shape, or a pose count that does not match the images, is one clear line", async () => {
    const d = fresh("llff");
    mkdirSync(join(d, "images"));
    for (let i = 0; i < 3; i++) writeFileSync(join(d, "images", `${i}.png`), await png(16, 12, () => [5, 5, 5]));
    writeFileSync(join(d, "poses_bounds.npy"), writeNpy([3, 15], new Float64Array(45)));
    await rejectsLine(readClip(d, { size: 8 }), /poses_bounds\.npy must have shape \(N, 17\), got \(3, 15\)/);
    writeFileSync(join(d, "poses_bounds.npy"), writeNpy([2, 17], new Float64Array(34)));
    // the images folder is named by its path as given (the clip's path + images/), not by its last component alone
    await rejectsLine(readClip(d, { size: 8 }), new RegExp(`2 poses but ${join(d, "images").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/ has 3 images`));
    writeFileSync(join(d, "poses_bounds.npy"), Buffer.from("garbage"));
    await rejectsLine(readClip(d, { size: 8 }), /not a readable \.npy file/);
  });

  it("LLFF axis order [down, right, back] converts to OpenCV [right, down, forward], focal scaled to the loaded size", async () => {
    const d = fresh("llffok");
    mkdirSync(join(d, "images_4"));
    for (let i = 0; i < 2; i++) writeFileSync(join(d, "images_4", `${i}.png`), await png(40, 30, () => [5, 5, 5]));
    // an OpenCV camera at (1, 2, 3) rotated 90° about world z: x_cam = (0,1,0), y_cam = (-1,0,0), z_cam = (0,0,1)
    const [x, y, z] = [[0, 1, 0], [-1, 0, 0], [0, 0, 1]];
    const t = [1, 2, 3];
    const row: number[] = [];
    for (let r = 0; r < 3; r++) row.push(y[r]!, x[r]!, -z[r]!, t[r]!, [120, 160, 200][r]!); // LLFF: [down, right, back, t, hwf]
    row.push(0.5, 10);
    writeFileSync(join(d, "poses_bounds.npy"), writeNpy([2, 17], [...row, ...row]));
    const c = await readClip(d, { size: 30, crop: "stretch" });
    const cam = c.frames[0]!.camera!;
    assert.deepEqual(cam.c2w, [0, -1, 0, 1, 1, 0, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1]);
    // focal 200 px at 160 wide → 50 px at 40 wide → ×30/40 after stretching to 30×30 (fx) and ×30/30 (fy)
    assert.ok(Math.abs(cam.fxfycxcy[0] - 37.5) < 1e-9 && Math.abs(cam.fxfycxcy[1] - 50) < 1e-9, `${cam.fxfycxcy}`);
  });

  it("a scene folder is read, resized, and keeps masks and cameras; malformed scene JSON is one line", async () => {
    const d = fresh("scene");
    await writeScene(d, fakeScene({ h: 24, w: 32, frames: 3 }));
    const c = await readClip(d, { size: 16 });
    assert.equal(c.format, "scene");
    assert.equal(c.frames.length, 3);
    assert.equal(c.frames[0]!.image.length, 3 * 16 * 16);
    assert.ok(c.frames[0]!.camera, "cameras carried over");
    const ones = c.frames[0]!.mask!.reduce((a, b) => a + b, 0);
    assert.ok(ones > 4 && ones < 30, `the 6×6 moving square at 24×32 → a few pixels at 16×16, got ${ones}`);
    writeFileSync(join(d, "scene.json"), "{ not json");
    await rejectsLine(readClip(d, { size: 16 }), /scene\.json: not valid JSON/);
  });
});

describe("wildrayzer inspect", () => {
  it("prints format, frames, sizes, masks and cameras; a bad path exits 2 with one line", { skip: noReal }, async () => {
    const ok = await runCli(["inspect", join(REAL, "tennis"), "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    const s = JSON.parse(ok.stdout) as { format: string; frames: number; masks: number; originalSizes: string[] };
    assert.deepEqual([s.format, s.frames, s.masks, s.originalSizes[0]], ["davis", 70, 70, "432x240"]);
    const bad = await runCli(["inspect", join(root, "missing-clip")]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.match(bad.stderr, /missing-clip: no such file or folder/);
  });
});
