import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { runCli } from "../helpers/cli.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { SYNTH_PRESETS, SynthConfigSchema } from "../../src/data/config.ts";
import { computeCrop, uncropMask } from "../../src/data/crop.ts";
import { maskWindows } from "../../src/pipeline/clipMasks.ts";
import { saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";
import { resolveRunConfig } from "../../src/train/config.ts";
import { MOTION_PRESETS } from "../../src/model/motionConfig.ts";
import { MASK_TAP_CHANNELS } from "../../src/pipeline/pseudoLabels.ts";
import { engine } from "../helpers/engine.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-masks-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const scene = join(dir, "scene");
const short = join(dir, "short");

before(async () => {
  await engine();
  const cfg = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: 64, frames: 8, movers: [1, 2] });
  await writeScene(scene, generateScene(77, cfg));
  await writeScene(short, generateScene(78, { ...cfg, frames: 4 }));
});

describe("mask windows", () => {
  it("every frame is a target of some window, never an input of its own window, inputs at the window's ends", () => {
    for (const [n, v] of [[6, 6], [8, 6], [12, 6], [23, 6], [7, 3]] as const) {
      const ws = maskWindows(n, v);
      const covered = new Set(ws.flatMap((w) => w.targets));
      assert.equal(covered.size, n, `n=${n} v=${v}: all frames covered`);
      for (const w of ws) {
        const all = [...w.inputs, ...w.targets].sort((a, b) => a - b);
        assert.equal(all.length, v, "views per window");
        assert.ok(all.every((f, i) => i === 0 || f === all[i - 1]! + 1), `consecutive frames ${all}`);
        assert.ok(w.targets.every((t) => !w.inputs.includes(t)), "no frame is both");
      }
      // the first pass interpolates: inputs are the window's two ends
      assert.deepEqual(ws[0]!.inputs, [0, v - 1]);
    }
    assert.throws(() => maskWindows(4, 6), /needs 6/);
  });
});

describe("uncropMask", () => {
  it("puts a working-size mask back into the crop region of the original frame, zero outside", () => {
    const crop = computeCrop(60, 100, 12, 12); // 60×60 region at x0 = 20, 5× scale
    assert.deepEqual(crop.region, { x0: 20, y0: 0, w: 60, h: 60 });
    const m = new Uint8Array(144);
    for (let y = 2; y < 6; y++) for (let x = 4; x < 10; x++) m[y * 12 + x] = 1; // rows 2–5, columns 4–9
    const full = uncropMask(m, crop);
    let inside = 0;
    let wrong = 0;
    for (let y = 0; y < 60; y++) {
      for (let x = 0; x < 100; x++) {
        const want = y >= 10 && y < 30 && x >= 20 + 20 && x < 20 + 50 ? 1 : 0;
        const got = full[y * 100 + x]!;
        inside += got;
        // bilinear + 0.5 threshold puts the edge half a working pixel's blur either way: allow the 2-px border
        const nearEdge = Math.min(Math.abs(y - 10), Math.abs(y - 30), Math.abs(x - 40), Math.abs(x - 70)) < 2;
        if (got !== want && !nearEdge) wrong++;
      }
    }
    assert.equal(wrong, 0, "every pixel away from the edges is right");
    assert.ok(Math.abs(inside - 20 * 30) <= 2 * (20 + 30), `area ${inside} ≈ 600`);
    for (let y = 0; y < 60; y++) for (let x = 0; x < 20; x++) assert.equal(full[y * 100 + x], 0, "left margin (cropped away) is 0");
  });
});

/** A written mask: at the input frame's size (64²) and binary 0/255; returns its pixels. */
async function maskPng(path: string): Promise<Buffer> {
  const png = sharp(path);
  const meta = await png.metadata();
  assert.deepEqual([meta.width, meta.height], [64, 64], `${path}: the input frame's size`);
  const { data } = await png.raw().toBuffer({ resolveWithObject: true });
  assert.ok(data.every((v) => v === 0 || v === 255), `${path}: binary 0/255`);
  return data;
}

describe("wildrayzer masks (the motion estimator)", () => {
  it("writes a 0/255 mask per frame at the input's size from a stage-2 model, masks.json says so; the estimator's masks", async () => {
    const ckpt = join(dir, "stage2.safetensors");
    const base = resolveRunConfig("tiny");
    const motion = { ...MOTION_PRESETS.tiny, featureChannels: MASK_TAP_CHANNELS };
    await saveUntrainedCheckpoint(ckpt, { ...base, model: { ...base.model, motion } }, 6, 2);
    const out = join(dir, "motion");
    const r = await runCli(["masks", "--estimator", "--input", scene, "--out", out, "--ckpt", ckpt, "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 8 masks \(motion estimator\)/);
    const summary = JSON.parse(readFileSync(join(out, "masks.json"), "utf8"));
    assert.equal(summary.source, "motion estimator");
    assert.equal(summary.frames.length, 8);
    for (const f of summary.frames) await maskPng(join(out, `${f.name}.png`));
  });
});

describe("wildrayzer masks --pseudo --renderer model", () => {
  it("writes a 0/255 mask per frame at the input's size, masks.json and a debug page whose images exist", async () => {
    const out = join(dir, "out");
    const r = await runCli(["masks", "--pseudo", "--renderer", "model", "--input", scene, "--out", out, "--debug", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 8 masks/);
    assert.match(r.stdout, /mIoU against the clip's own masks \d\.\d{3}/);
    const summary = JSON.parse(readFileSync(join(out, "masks.json"), "utf8"));
    assert.equal(summary.frames.length, 8);
    assert.deepEqual(summary.workingSize, [32, 32], "the shipped model works at 32²");
    for (const f of summary.frames) {
      const data = await maskPng(join(out, `${f.name}.png`));
      const ones = data.reduce((a, v) => a + (v ? 1 : 0), 0) / data.length;
      assert.ok(Math.abs(ones - f.coverage) < 0.1, `${f.name}: full-size coverage ${ones} vs working ${f.coverage}`);
    }
    const html = readFileSync(join(out, "debug.html"), "utf8");
    const srcs = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(srcs.length >= summary.windows.length * 4 * 10, `${srcs.length} images for ${summary.windows.length} windows`);
    for (const s of srcs) assert.ok(existsSync(join(out, s)), s);
    for (const label of ["feature dissimilarity", "SSIM dissimilarity", "colour residual", "fused evidence", "k-means clusters", "patch mask", "morphology", "final (GrabCut)"]) {
      assert.ok(html.includes(label), label);
    }
  });

  it("bad input: one line, exit 2, nothing written", async () => {
    const cases: [string[], RegExp][] = [
      [["masks", "--estimator", "--input", scene, "--out", join(dir, "x1"), "--ckpt", "models/small.safetensors"], /small\.safetensors: a stage-1 RayZer without a motion estimator; drop --estimator/],
      [["masks", "--estimator", "--pseudo", "--renderer", "model", "--input", scene, "--out", join(dir, "x8")], /their union takes the warp renderer's pseudo-masks; drop --renderer model/],
      [["masks", "--input", scene, "--out", join(dir, "x9"), "--ckpt", "models/small.safetensors"], /small\.safetensors: a stage-1 RayZer without a motion estimator; give a stage-2 or stage-3 --ckpt, or use --pseudo alone/],
      [["masks", "--pseudo", "--renderer", "model", "--input", short, "--out", join(dir, "x2")], /4 frames, but masks need at least 6/],
      [["masks", "--pseudo", "--renderer", "model", "--input", scene, "--out", join(dir, "x3"), "--ckpt", join(dir, "nope.safetensors")], /nope\.safetensors/],
      [["masks", "--pseudo", "--renderer", "model", "--input", scene, "--out", join(dir, "x4"), "--size", "64"], /works at 32×32/],
      [["masks", "--pseudo", "--renderer", "warp", "--input", scene, "--out", join(dir, "x5"), "--size", "64"], /--size: the warp renderer works at the input's full size/],
      [["masks", "--pseudo", "--renderer", "warp", "--input", scene, "--out", join(dir, "x6"), "--ckpt", join(dir, "nope.safetensors")], /--ckpt: the warp renderer uses no model/],
      [["masks", "--pseudo", "--renderer", "model", "--input", scene, "--out", join(dir, "x7"), "--spacing", "2"], /options of --renderer warp/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
      assert.ok(!existsSync(join(dir, args[args.indexOf("--out") + 1]!.split("/").pop()!)), "nothing written");
    }
  });
});
