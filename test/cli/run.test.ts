import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { runCli } from "../helpers/cli.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { SYNTH_PRESETS, SynthConfigSchema } from "../../src/data/config.ts";
import { encodeMaskPng, encodePng } from "../../src/data/images.ts";
import { checkOutDir, OUT_MARKER } from "../../src/cli/outDir.ts";
import { composeClean } from "../../src/cli/run.ts";
import { overlayMask } from "../../src/eval/maskReport.ts";
import { chainWindow } from "../../src/pipeline/clipCameras.ts";
import { mat4Mul } from "../../src/geometry/mat4.ts";
import { saveTinyWildrayzer, saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";
import { resolveRunConfig } from "../../src/train/config.ts";
import { MOTION_PRESETS } from "../../src/model/motionConfig.ts";
import { MASK_TAP_CHANNELS } from "../../src/pipeline/pseudoLabels.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-run-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const clip = join(dir, "clip"); // DAVIS-style frames/ + masks/, 96×64: a 64² synthetic scene with 16-px margins
const short = join(dir, "short"); // a 4-frame scene folder
const [H, W, PAD] = [64, 96, 16];
const names = Array.from({ length: 8 }, (_, i) => `shot_${String(i).padStart(2, "0")}`);

before(async () => {
  const cfg = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: 64, frames: 8, movers: [1, 2], path: "pan" });
  const scene = generateScene(91, cfg);
  for (const [i, f] of scene.frames.entries()) {
    const img = new Float32Array(3 * H * W).fill(0.5);
    const mask = new Uint8Array(H * W);
    for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < 64; x++) img[c * H * W + y * W + x + PAD] = f.image[c * 64 * 64 + y * 64 + x]!;
    for (let y = 0; y < H; y++) for (let x = 0; x < 64; x++) mask[y * W + x + PAD] = f.mask![y * 64 + x]!;
    mkdirSync(join(clip, "frames"), { recursive: true });
    mkdirSync(join(clip, "masks"), { recursive: true });
    writeFileSync(join(clip, "frames", `${names[i]}.png`), await encodePng(img, H, W));
    writeFileSync(join(clip, "masks", `${names[i]}.png`), await encodeMaskPng(mask, H, W));
  }
  await writeScene(short, generateScene(92, { ...cfg, frames: 4 }));
});

async function pixels(path: string): Promise<{ data: Buffer; w: number; h: number; channels: number }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { data, w: info.width, h: info.height, channels: info.channels };
}

describe("wildrayzer run (end to end on a small clip)", () => {
  const out = join(dir, "out");
  it("writes masks and clean frames at the input's size under its frame names, an overlay video, cameras in input pixels, report.html", async () => {
    const r = await runCli(["run", clip, "--out", out, "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /moving objects in \d+ of 8 frames/);
    assert.match(r.stdout, /warp static renderer/);
    assert.deepEqual(readdirSync(join(out, "masks")).sort(), names.map((n) => `${n}.png`));
    assert.deepEqual(readdirSync(join(out, "clean")).sort(), names.map((n) => `${n}.png`));
    let moving = 0;
    for (const n of names) {
      const m = await pixels(join(out, "masks", `${n}.png`));
      assert.deepEqual([m.w, m.h], [W, H], `${n}: mask at the input's size`);
      for (let i = 0; i < m.data.length; i += m.channels) {
        assert.ok(m.data[i] === 0 || m.data[i] === 255, `${n}: mask values are 0/255, got ${m.data[i]}`);
        if (m.data[i]) moving++;
      }
      // clean frame = the input frame wherever the mask says static
      const c = await pixels(join(out, "clean", `${n}.png`));
      const f = await pixels(join(clip, "frames", `${n}.png`));
      assert.deepEqual([c.w, c.h], [W, H]);
      for (let p = 0; p < W * H; p++) {
        if (m.data[p * m.channels]) continue;
        for (let ch = 0; ch < 3; ch++) assert.equal(c.data[p * c.channels + ch], f.data[p * f.channels + ch], `${n}: static pixel ${p} kept`);
      }
    }
    assert.ok(moving > 0, "some pixel is marked moving (the clip has 1–2 movers)");
    assert.ok(statSync(join(out, "overlay.mp4")).size > 1000, "overlay video written");
    // cameras.json: one camera per frame, c2w rigid (first is identity), intrinsics in the input's pixels
    const cams = JSON.parse(readFileSync(join(out, "cameras.json"), "utf8")) as {
      crop: { region: { x0: number; y0: number; w: number; h: number }; workingSize: number[] };
      intrinsics: string;
      frames: { name: string; c2w: number[]; fxfycxcy: number[] }[];
    };
    assert.deepEqual(cams.crop.region, { x0: PAD, y0: 0, w: 64, h: 64 }, "the centre crop the model saw");
    assert.deepEqual(cams.crop.workingSize, [32, 32]);
    assert.match(cams.intrinsics, /pixels of the input frame \(96×64\)/);
    assert.deepEqual(cams.frames.map((f) => f.name), names);
    assert.deepEqual(cams.frames[0]!.c2w, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    for (const f of cams.frames) {
      assert.equal(f.c2w.length, 16);
      const m = f.c2w;
      // R·Rᵀ = I (rows orthonormal) and the last row is 0 0 0 1
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
        const d = m[4 * i]! * m[4 * j]! + m[4 * i + 1]! * m[4 * j + 1]! + m[4 * i + 2]! * m[4 * j + 2]!;
        assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-3, `${f.name}: rotation rows ${i},${j}: ${d}`);
      }
      assert.deepEqual(m.slice(12), [0, 0, 0, 1]);
      const [fx, fy, cx, cy] = f.fxfycxcy as [number, number, number, number];
      // the model predicts a centred principal point on its 32² crop: at the input's pixels that is the crop's centre
      assert.ok(Math.abs(cx - (PAD + 32)) < 1e-3 && Math.abs(cy - 32) < 1e-3, `${f.name}: principal point ${cx}, ${cy} at the crop centre in input pixels`);
      assert.ok(fx > 10 && fx < 1000 && Math.abs(fx - fy) < 1e-3, `${f.name}: focal ${fx}, ${fy} in pixels`);
    }
    // run.json: IoU against the clip's own masks, the mean of the per-frame values
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { frames: { iou: number }[]; miou: number };
    const mean = run.frames.reduce((a, f) => a + f.iou, 0) / run.frames.length;
    assert.ok(Math.abs(run.miou - mean) < 1e-3, `miou ${run.miou} vs mean ${mean}`);
    const html = readFileSync(join(out, "report.html"), "utf8");
    assert.match(html, /<p class="verdict">.*moving objects in \d+ of 8 frames/);
    const srcs = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(srcs.length >= 3 * 8, `every frame three times: ${srcs.length}`);
    for (const s of srcs) assert.ok(existsSync(join(out, s)), s);
    assert.ok(existsSync(join(out, OUT_MARKER)), "the folder is marked as run's");
  });

  it("a rerun into its own folder first removes what run wrote there (stale frames do not survive), other files stay", async () => {
    writeFileSync(join(out, "masks", "stale.png"), "x");
    writeFileSync(join(out, "notes.txt"), "mine");
    const check = checkOutDir(out, "run", { names: ["masks", "clean", "cameras.json"] });
    assert.ok(existsSync(join(out, "masks", "stale.png")), "checking deletes nothing");
    check.claim();
    assert.equal(existsSync(join(out, "masks")), false);
    assert.equal(existsSync(join(out, "cameras.json")), false);
    assert.equal(readFileSync(join(out, "notes.txt"), "utf8"), "mine");
    assert.ok(existsSync(join(out, "overlay.mp4")), "names not given as owned are kept");
  });
});

describe("wildrayzer run --masks motion", () => {
  it("takes the motion estimator's masks: the same masks `masks` writes with that model; a stage-1 model is refused", async () => {
    const ckpt = join(dir, "stage2.safetensors");
    const base = resolveRunConfig("tiny");
    await saveUntrainedCheckpoint(ckpt, { ...base, model: { ...base.model, motion: { ...MOTION_PRESETS.tiny, featureChannels: MASK_TAP_CHANNELS } } }, 6, 2);
    const out = join(dir, "motion");
    const r = await runCli(["run", clip, "--out", out, "--ckpt", ckpt, "--masks", "motion", "--renderer", "model", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /masks from the motion estimator of /);
    const ref = join(dir, "motion-ref");
    const m = await runCli(["masks", "--estimator", "--input", clip, "--out", ref, "--ckpt", ckpt, "--quiet"]);
    assert.equal(m.code, 0, m.stderr);
    for (const n of names) {
      const [a, b] = [await pixels(join(out, "masks", `${n}.png`)), await pixels(join(ref, `${n}.png`))];
      assert.deepEqual([a.w, a.h], [W, H]);
      assert.ok(a.data.equals(b.data), `${n}: run's mask equals masks' mask`);
    }
    const bad = await runCli(["run", clip, "--out", join(dir, "motion-bad"), "--masks", "motion", "--ckpt", "models/small.safetensors"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--masks motion: models\/small\.safetensors is a stage-1 RayZer without a motion estimator/);
  });

  it("--masks both (the default for a model with an estimator) writes the pixelwise union of the pseudo-masks and the estimator's", async () => {
    // a tiny WildRayZer whose estimator marks some pixels (the untrained one of the test above marks none)
    const ckpt = join(dir, "tiny-wild.safetensors");
    await saveTinyWildrayzer(ckpt, 2);
    const both = join(dir, "both");
    const pseudo = join(dir, "pseudo");
    const motion = join(dir, "motion-wild");
    const mo = await runCli(["run", clip, "--out", motion, "--ckpt", ckpt, "--masks", "motion", "--quiet"]);
    assert.equal(mo.code, 0, mo.stderr);
    const r = await runCli(["run", clip, "--out", both, "--ckpt", ckpt, "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /masks: the union of the pseudo-masks of the warp static renderer .* and the motion estimator's/);
    assert.equal(JSON.parse(readFileSync(join(both, "run.json"), "utf8")).masks, "both");
    const p = await runCli(["run", clip, "--out", pseudo, "--ckpt", ckpt, "--masks", "pseudo", "--quiet"]);
    assert.equal(p.code, 0, p.stderr);
    let fromPseudo = 0, fromMotion = 0;
    for (const n of names) {
      const [u, a, b] = [await pixels(join(both, "masks", `${n}.png`)), await pixels(join(pseudo, "masks", `${n}.png`)), await pixels(join(motion, "masks", `${n}.png`))];
      for (let i = 0; i < u.data.length; i += u.channels) {
        assert.equal(u.data[i], a.data[i] || b.data[i] ? 255 : 0, `${n}: pixel ${i / u.channels} is the union`);
        if (a.data[i] && !b.data[i]) fromPseudo++;
        if (b.data[i] && !a.data[i]) fromMotion++;
      }
    }
    assert.ok(fromPseudo > 0 && fromMotion > 0, `each source adds pixels the other misses: ${fromPseudo}, ${fromMotion}`);
    // `masks` by default writes the same union
    const mu = join(dir, "masks-union");
    const mr = await runCli(["masks", "--input", clip, "--out", mu, "--ckpt", ckpt, "--quiet"]);
    assert.equal(mr.code, 0, mr.stderr);
    assert.match(mr.stdout, /masks \(warp pseudo-masks ∪ the motion estimator of .*tiny-wild\.safetensors\)/);
    assert.equal(JSON.parse(readFileSync(join(mu, "masks.json"), "utf8")).estimator.checkpoint, ckpt);
    for (const n of names) assert.ok((await pixels(join(mu, `${n}.png`))).data.equals((await pixels(join(both, "masks", `${n}.png`))).data), `${n}: masks' union equals run's`);
    const bad = await runCli(["run", clip, "--out", join(dir, "both-bad"), "--masks", "both", "--ckpt", "models/small.safetensors"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--masks both: models\/small\.safetensors is a stage-1 RayZer without a motion estimator/);
  });
});

describe("wildrayzer run --fit", () => {
  it("fits the RayZer to the clip (its own loss falls), then masks and clean frames come from the fitted RayZer; run.json records both passes", async () => {
    const ckpt = join(dir, "fit-tiny.safetensors");
    await saveUntrainedCheckpoint(ckpt, resolveRunConfig("tiny"), 4, 2);
    const out = join(dir, "fitted");
    const r = await runCli(["run", clip, "--out", out, "--ckpt", ckpt, "--fit", "20", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /as static renderer at 32×32 \(centre crop\), enlarged to the frame, after fitting the RayZer to this clip for 20 steps/);
    assert.match(r.stdout, /first masks from the warp renderer, mIoU \d\.\d{3}\)/);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    assert.equal(run.masks, "pseudo", "a stage-1 model has no estimator: pseudo-masks only");
    assert.match(r.stdout, /\(the model has no motion estimator: pseudo-masks only\)/);
    assert.equal(run.fit.steps, 20);
    assert.equal(run.fit.firstRenderer, "warp");
    assert.equal(run.fit.losses.length, 20);
    assert.ok(run.fit.clipLossAfter < 0.95 * run.fit.clipLossBefore, `clip loss ${run.fit.clipLossBefore} → ${run.fit.clipLossAfter}`);
    assert.ok(run.fit.gatedFraction > 0 && run.fit.gatedFraction < 0.5, `gated ${run.fit.gatedFraction}`);
    assert.ok(run.fit.miouBefore >= 0 && run.fit.miouBefore <= 1, `mIoU before ${run.fit.miouBefore}`);
    assert.equal(typeof run.miou, "number");
    assert.deepEqual(readdirSync(join(out, "masks")).sort(), names.map((n) => `${n}.png`));
    // the first pass was the warp renderer; the masks written are the fitted RayZer's, so they differ from a warp run's
    const warp = join(dir, "out");
    if (existsSync(join(warp, "masks"))) {
      const differ = await Promise.all(names.map(async (n) => !(await pixels(join(out, "masks", `${n}.png`))).data.equals((await pixels(join(warp, "masks", `${n}.png`))).data)));
      assert.ok(differ.some(Boolean), "masks after the fit are the fitted RayZer's, not the warp renderer's");
    }
  });
});

describe("the --out rule and other defects a new user hit", () => {
  it("--out naming a file: one line, exit 2, before any work (run, masks, render)", async () => {
    const file = join(dir, "a-file.txt");
    writeFileSync(file, "keep");
    for (const args of [["run", clip, "--out", file], ["masks", "--pseudo", "--input", clip, "--out", file], ["render", "--input", clip, "--out", file]]) {
      const t0 = performance.now();
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /--out .*a-file\.txt: is a file, not a folder/);
      assert.ok(performance.now() - t0 < 20_000, `${args[0]}: fails fast`);
    }
    assert.equal(readFileSync(file, "utf8"), "keep");
  });

  it("a non-empty folder another command (or nobody) wrote is refused, untouched", async () => {
    const foreign = join(dir, "foreign");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "00000.png"), "user's own");
    const r = await runCli(["masks", "--pseudo", "--input", clip, "--out", foreign]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /foreign: the folder is not empty and holds files not written by this command/);
    assert.equal(readFileSync(join(foreign, "00000.png"), "utf8"), "user's own");
    writeFileSync(join(foreign, OUT_MARKER), JSON.stringify({ command: "render" }));
    assert.throws(() => checkOutDir(foreign, "masks", { names: [], matches: () => true }), /was written by `wildrayzer render`/);
    writeFileSync(join(foreign, OUT_MARKER), JSON.stringify({ command: "masks" }));
    checkOutDir(foreign, "masks", { names: [], matches: (n) => n.endsWith(".png") }).claim();
    assert.equal(existsSync(join(foreign, "00000.png")), false, "masks' own PNGs are cleared on a rerun of masks");
  });

  it("run --fit 0 is refused with one line before any work; render defaults to the shipped model and names the input by its path", async () => {
    const fit = await runCli(["run", clip, "--out", join(dir, "fit"), "--fit", "0"]);
    assert.equal(fit.code, 2, fit.stderr);
    assert.equal(fit.stderr.trim(), "wildrayzer: --fit 0: give a whole number of steps ≥ 1");
    assert.equal(existsSync(join(dir, "fit")), false);
    // no --ckpt: the shipped 6-view model; the 4-frame scene is too short for it, and the message gives the path
    const r = await runCli(["render", "--input", short, "--out", join(dir, "r")]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`${short}: 4 frames, but the model needs at least 6`), r.stderr);
    assert.equal(existsSync(join(dir, "r")), false, "nothing written");
  });

  it("top-level help lists run and says train takes footage", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /\n\s+run \[options\] <clip>/);
    assert.match(r.stdout.replace(/\s+/g, " "), /train \[options\] train a stage on synthetic scenes or footage/);
  });
});

describe("run's pieces", () => {
  it("composeClean takes the rendering exactly where the mask is 1; overlayMask tints only masked pixels", () => {
    const frame = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]); // [3, 1, 2]
    const render = Float32Array.from([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]);
    const mask = Uint8Array.from([0, 1]);
    assert.deepEqual([...composeClean(frame, render, mask)].map((v) => +v.toFixed(3)), [0.1, 0.8, 0.3, 0.6, 0.5, 0.4]);
    assert.deepEqual([...overlayMask(frame, mask)].map((v) => +v.toFixed(3)), [0.1, 0.6, 0.3, 0.2, 0.5, 0.3]);
  });

  it("chainWindow puts a window's relative poses after its first frame's known pose", () => {
    const T = (x: number, z: number) => [1, 0, 0, x, 0, 1, 0, 0, 0, 0, 1, z, 0, 0, 0, 1];
    const first = chainWindow(new Map(), [0, 1, 2], [T(0, 0), T(1, 0), T(2, 0)]);
    assert.deepEqual(first.get(2), T(2, 0));
    const known = new Map(first);
    // second window starts at frame 2; its frame 3 is 0.5 along z from frame 2
    const second = chainWindow(known, [2, 3], [T(0, 0), T(0, 0.5)]);
    assert.equal(second.has(2), false, "known frames keep their pose");
    assert.deepEqual(second.get(3), mat4Mul(T(2, 0), T(0, 0.5)));
    assert.deepEqual(second.get(3), T(2, 0.5));
    assert.throws(() => chainWindow(known, [7, 8], [T(0, 0), T(0, 0)]), /no pose yet/);
  });
});
