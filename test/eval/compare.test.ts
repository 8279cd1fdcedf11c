import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { numpy as np } from "@jax-js/jax";
import { engine, values } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";
import { compareImages } from "../../src/eval/compare.ts";
import { loadMobilenetV2, MOBILENET_TAPS, type FeatureExtractor } from "../../src/features/mobilenetV2.ts";
import { decodeImage } from "../../src/data/images.ts";
import { readClip } from "../../src/data/readers/index.ts";
import { makeRng } from "../../src/engine/rng.ts";
import { REAL, noReal } from "../helpers/realData.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-compare-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let fx: FeatureExtractor;
before(async () => {
  await engine();
  fx = await loadMobilenetV2();
});

const frame = (clip: string, f: string) => join(REAL, clip, "frames", f);

describe("image distances on real photos", { skip: noReal }, () => {
  for (const [clip, f] of [["tennis", "00010.jpg"], ["fern", "00003.jpg"]] as const) {
    it(`${clip}: PSNR and SSIM fall and the perceptual distance grows with stronger blur, noise and JPEG`, async () => {
      const bytes = (await sharp(frame(clip, f)).png().toBuffer()) as Buffer;
      const ref = await decodeImage(bytes, f);
      const { h, w } = ref;
      const results: Record<string, { psnr: number; ssim: number; perceptual: number }[]> = { blur: [], jpeg: [] };
      for (const sigma of [0.8, 2, 4]) results.blur!.push(await compareImages(fx, ref.image, (await decodeImage(await sharp(bytes).blur(sigma).png().toBuffer(), "blur")).image, h, w));
      for (const quality of [90, 40, 8]) results.jpeg!.push(await compareImages(fx, ref.image, (await decodeImage(await sharp(bytes).jpeg({ quality }).toBuffer(), "jpeg")).image, h, w));
      results.noise = [];
      for (const sigma of [0.02, 0.05, 0.12]) {
        const rng = makeRng(7);
        const noisy = ref.image.map((v) => Math.min(1, Math.max(0, v + sigma * (rng.next() + rng.next() + rng.next() - 1.5) * 2)));
        results.noise!.push(await compareImages(fx, ref.image, noisy, h, w));
      }
      for (const [kind, r] of Object.entries(results)) {
        const show = r.map((x) => `${x.psnr.toFixed(1)}/${x.ssim.toFixed(3)}/${x.perceptual.toFixed(4)}`).join(" → ");
        for (let i = 1; i < r.length; i++) {
          assert.ok(r[i]!.psnr < r[i - 1]!.psnr, `${kind} PSNR: ${show}`);
          assert.ok(r[i]!.ssim < r[i - 1]!.ssim, `${kind} SSIM: ${show}`);
          assert.ok(r[i]!.perceptual > r[i - 1]!.perceptual, `${kind} perceptual: ${show}`);
        }
        assert.ok(r[0]!.perceptual > 0, `${kind}: a changed image has a positive distance`);
      }
    });
  }

  it("a mask of ones scores like no mask; a mask on an untouched region scores ~identical", async () => {
    const ref = await decodeImage(await sharp(frame("tennis", "00000.jpg")).png().toBuffer(), "t");
    const { h, w } = ref;
    const b = Float32Array.from(ref.image);
    for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = w / 2; x < w; x++) b[(c * h + y) * w + x] = 1 - b[(c * h + y) * w + x]!;
    const all = await compareImages(fx, ref.image, b, h, w);
    const ones = await compareImages(fx, ref.image, b, h, w, new Float32Array(h * w).fill(1));
    assert.ok(Math.abs(all.perceptual - ones.perceptual) < 1e-5, `${all.perceptual} vs ${ones.perceptual}`);
    const left = Float32Array.from({ length: h * w }, (_, i) => (i % w < w / 4 ? 1 : 0));
    const right = Float32Array.from({ length: h * w }, (_, i) => (i % w >= (3 * w) / 4 ? 1 : 0));
    const l = await compareImages(fx, ref.image, b, h, w, left);
    const r = await compareImages(fx, ref.image, b, h, w, right);
    assert.equal(l.psnr, Infinity);
    assert.ok(l.ssim > 0.99 && l.perceptual < 0.2 * r.perceptual, `left (untouched) ${JSON.stringify(l)} vs right ${JSON.stringify(r)}`);
  });

  it("features carry semantics: two frames of one clip are closer than frames of different clips", async () => {
    const pooled = async (clip: string) => {
      const c = await readClip(join(REAL, clip), { size: 224, maxFrames: 8, stride: 4 });
      const out: number[][] = [];
      for (const i of [0, c.frames.length - 1]) {
        const f = fx.extract(np.array(c.frames[i]!.image).reshape([1, 3, 224, 224]), [MOBILENET_TAPS.patch16]).get(MOBILENET_TAPS.patch16)!;
        out.push(await values(np.mean(f, [2, 3])));
      }
      return out;
    };
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / Math.hypot(...a) / Math.hypot(...b);
    const clips = { tennis: await pooled("tennis"), lady: await pooled("lady-running"), fern: await pooled("fern") };
    const same = [cos(clips.tennis[0]!, clips.tennis[1]!), cos(clips.lady[0]!, clips.lady[1]!), cos(clips.fern[0]!, clips.fern[1]!)];
    const diff = [cos(clips.tennis[0]!, clips.lady[0]!), cos(clips.tennis[0]!, clips.fern[0]!), cos(clips.lady[0]!, clips.fern[0]!)];
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(", ");
    assert.ok(Math.min(...same) > Math.max(...diff), `same clip ${fmt(same)} vs different clips ${fmt(diff)}`);
  });
});

describe("wildrayzer compare", { skip: noReal }, () => {
  it("an image with itself: PSNR inf, SSIM 1, distance 0; different sizes exit 2 with one line", async () => {
    const same = await runCli(["compare", "--a", frame("fern", "00000.jpg"), "--b", frame("fern", "00000.jpg"), "--json"]);
    assert.equal(same.code, 0, same.stderr);
    const j = JSON.parse(same.stdout) as { psnr: number | null; identical: boolean; ssim: number; perceptual: number; featureDissimilarity: number };
    assert.deepEqual([j.psnr, j.identical, j.ssim, j.perceptual], [null, true, 1, 0]);
    assert.ok(Math.abs(j.featureDissimilarity) < 1e-5, `feature dissimilarity of an image with itself: ${j.featureDissimilarity}`);
    const badSpec = await runCli(["compare", "--a", frame("fern", "00000.jpg"), "--b", frame("fern", "00000.jpg"), "--features", "resnet:x.safetensors"]);
    assert.equal(badSpec.code, 2, badSpec.stderr);
    assert.match(badSpec.stderr, /--features resnet:x\.safetensors: expected mobilenet, or KIND:FILE/);
    const text = await runCli(["compare", "--a", frame("fern", "00000.jpg"), "--b", frame("fern", "00000.jpg")]);
    assert.match(text.stdout, /^PSNR +inf \(identical\)$/m);
    const small = join(dir, "small.png");
    writeFileSync(small, await sharp(frame("fern", "00000.jpg")).resize(64, 48).png().toBuffer());
    const bad = await runCli(["compare", "--a", frame("fern", "00000.jpg"), "--b", small]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.match(bad.stderr, /small\.png: image is 64×48 \(w×h\), .* compare needs the same size/);
    // LPIPS weights are bring-your-own: the tiny test fixture has the official names but reduced widths
    const lp = await runCli(["compare", "--a", frame("fern", "00000.jpg"), "--b", frame("fern", "00001.jpg"), "--lpips", `alex:${new URL("../fixtures/lpips_alex_tiny.safetensors", import.meta.url).pathname}`]);
    assert.equal(lp.code, 2, lp.stderr);
    assert.equal(lp.stderr.trim().split("\n").length, 1, lp.stderr);
    assert.match(lp.stderr, /lpips_alex_tiny\.safetensors: .*wrong shape/);
  });
});
