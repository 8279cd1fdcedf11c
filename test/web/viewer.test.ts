/**
 * The browser viewer in a real browser (headless Chromium): `wildrayzer view`'s build, served by its static server,
 * loads with no console error, runs the shipped model on a built-in scene on the wasm backend, and what it shows
 * equals Node's results for the same input: the estimated cameras and the novel views of `renderNovelViews` (what
 * `wildrayzer render` writes), the rendering residual of a frame computed here by hand from the jitted forward,
 * and the overlay pixels. Screenshots: the page is not blank, the novel-view canvas shows Node's image, the
 * overlay is red where Node's residual is high, and the 3-D view has drawn the frusta.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import type { ElementHandle, Page } from "puppeteer-core";
import { findFfmpeg } from "../../src/data/readers/ffmpeg.ts";
import { engine } from "../helpers/engine.ts";
import { launchChromium, noChromium } from "../helpers/browser.ts";
import { buildViewer, serveStatic } from "../../src/cli/view.ts";
import { DEFAULT_MODEL, loadModel } from "../../src/model/loadFile.ts";
import { renderNovelViews, type RenderOutput } from "../../src/pipeline/novelViews.ts";
import { makeForward } from "../../src/pipeline/forward.ts";
import { maskWindows } from "../../src/pipeline/windows.ts";
import { builtInScene, makeSession, residualRamp, residualRgba, type Analysis } from "../../src/web/analysis.ts";
import type { SynthScene } from "../../src/data/synth/index.ts";

const SEED = 1_000_000_007;
const FRAMES = 8;

type PageResult = {
  phase: string;
  error?: string;
  device: string;
  cameras: { c2w: number[]; fxfycxcy: number[] }[];
  novel: number[][];
  residuals: (number[] | null)[];
  overlayAlpha: (number[] | null)[];
  badge: string;
};

describe("browser viewer (headless Chromium, wasm)", { skip: noChromium }, () => {
  let server: Server;
  let url: string;
  let close: () => Promise<void> = async () => {};
  let page: Page;
  const problems: string[] = [];
  let got: PageResult;
  let scene: SynthScene;
  let node: RenderOutput;
  let nodeAnalysis: Analysis;
  let handResidual: Float32Array;
  let handFrame: number;

  before(async () => {
    const b = await buildViewer({ quiet: true });
    ({ server, url } = await serveStatic(b.dir, 0, "127.0.0.1"));
    const c = await launchChromium();
    close = c.close;
    page = await c.browser.newPage();
    await page.setViewport({ width: 1280, height: 960 });
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page: ${(e as Error).message}`));
    page.on("requestfailed", (r) => problems.push(`request: ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(`${url}?scene=synth:${SEED}&device=wasm&run=1&frames=${FRAMES}`);
    await page.waitForFunction(() => ["done", "error"].includes((globalThis as { wrzViewer?: { phase: string } }).wrzViewer?.phase ?? ""), { timeout: 60_000 });
    got = await page.evaluate(() => {
      type S = {
        phase: string;
        error?: string;
        device: string;
        analysis: { estimate: { cameras: { c2w: number[]; fxfycxcy: number[] }[] }; residuals: (Float32Array | undefined)[] };
        path: { images: Float32Array[] };
      };
      const s = (globalThis as unknown as { wrzViewer: S }).wrzViewer;
      const overlays = Array.from(document.querySelectorAll<HTMLDivElement>("#frames .tile")).map((t) => {
        const o = t.querySelector<HTMLCanvasElement>("canvas.overlay");
        if (!o) return null;
        const d = o.getContext("2d")!.getImageData(0, 0, o.width, o.height).data;
        return Array.from({ length: d.length / 4 }, (_, i) => d[4 * i + 3]!);
      });
      return {
        phase: s.phase,
        error: s.error,
        device: s.device,
        cameras: s.analysis?.estimate.cameras ?? [],
        novel: (s.path?.images ?? []).map((a) => Array.from(a)),
        residuals: (s.analysis?.residuals ?? []).map((r) => (r ? Array.from(r) : null)),
        overlayAlpha: overlays,
        badge: document.getElementById("badge")!.textContent ?? "",
      };
    });

    // Node, on the same input
    await engine();
    const { params, meta } = loadModel(DEFAULT_MODEL);
    scene = builtInScene(SEED, meta);
    node = await renderNovelViews(params, meta.model, scene, { path: "interpolate", frames: FRAMES });
    const session = makeSession(params, meta.model);
    nodeAnalysis = await session.analyse(scene);
    session.dispose();
    // one frame's residual by hand: the first window, its first target
    const win = maskWindows(scene.frames.length, meta.model.views)[0]!;
    const { h, w } = scene;
    const img = 3 * h * w;
    const x = new Float32Array(meta.model.views * img);
    [...win.inputs, ...win.targets].forEach((f, j) => x.set(scene.frames[f]!.image, j * img));
    const fwd = makeForward(meta.model);
    const { renders } = await fwd.estimate(params, x, [1, meta.model.views, 3, h, w]);
    fwd.dispose();
    handFrame = win.targets[0]!;
    handResidual = new Float32Array(h * w);
    const frame = scene.frames[handFrame]!.image;
    for (let i = 0; i < h * w; i++) handResidual[i] = (Math.abs(frame[i]! - renders[i]!) + Math.abs(frame[h * w + i]! - renders[h * w + i]!) + Math.abs(frame[2 * h * w + i]! - renders[2 * h * w + i]!)) / 3;
  });
  after(async () => {
    await close();
    server?.close();
  });

  it("loads with no console error and finishes on the wasm backend", () => {
    assert.deepEqual(problems, [], "no console errors, page errors or failed requests");
    assert.equal(got.phase, "done", `viewer finished (error: ${got.error})`);
    assert.equal(got.device, "wasm");
    assert.match(got.badge, /^wasm · \d+ threads? · cameras \+ residuals [\d.]+ (ms|s) · path [\d.]+ (ms|s)$/);
  });

  it("estimates the same cameras as Node", () => {
    assert.equal(got.cameras.length, node.cameras.length);
    let worst = 0;
    got.cameras.forEach((c, i) => {
      c.c2w.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - node.cameras[i]!.c2w[k]!))));
      c.fxfycxcy.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - node.cameras[i]!.fxfycxcy[k]!) / 32)));
    });
    assert.ok(worst < 1e-4, `cameras differ by ${worst}`);
  });

  it("renders the novel views `wildrayzer render` renders (interpolated path)", () => {
    assert.equal(got.novel.length, FRAMES);
    let worst = 0;
    got.novel.forEach((im, j) => im.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - node.images[j]![i]!)))));
    assert.ok(worst < 2e-3, `novel views differ from Node's by up to ${worst}`);
    // and they are images, not a constant
    const im = node.images[0]!;
    const mean = im.reduce((a, b) => a + b, 0) / im.length;
    assert.ok(Math.sqrt(im.reduce((a, b) => a + (b - mean) ** 2, 0) / im.length) > 0.02, "the novel view has structure");
  });

  it("shows the rendering residual Node computes, and the overlay drawn from it", () => {
    const res = got.residuals[handFrame]!;
    const worstHand = Math.max(...res.map((v, i) => Math.abs(v - handResidual[i]!)));
    assert.ok(worstHand < 2e-3, `frame ${handFrame}'s residual differs from the hand computation by ${worstHand}`);
    const ramp = residualRamp(nodeAnalysis.residuals);
    let worst = 0;
    let drawn = 0;
    got.overlayAlpha.forEach((alpha, f) => {
      const r = nodeAnalysis.residuals[f];
      assert.equal(alpha === null, r === undefined, `frame ${f}: an overlay exactly where Node has a rendering`);
      if (!alpha || !r) return;
      const want = residualRgba(r, scene.h, scene.w, ramp);
      alpha.forEach((a, i) => (worst = Math.max(worst, Math.abs(a - want[4 * i + 3]!))));
      drawn++;
    });
    assert.equal(drawn, scene.frames.length, "every frame has a residual");
    assert.ok(worst <= 3, `overlay alpha differs from Node's by ${worst} / 255`);
  });

  it("screenshots: a full page, Node's novel view on screen, red where Node's residual is high, frusta drawn", async () => {
    const shot = await sharp(await page.screenshot({ fullPage: true })).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const lum = Array.from({ length: shot.info.width * shot.info.height }, (_, i) => shot.data[3 * i]! + shot.data[3 * i + 1]! + shot.data[3 * i + 2]!);
    const m = lum.reduce((a, b) => a + b, 0) / lum.length;
    assert.ok(Math.sqrt(lum.reduce((a, b) => a + (b - m) ** 2, 0) / lum.length) > 30, "the page is not blank");

    const { h, w } = scene;
    // the novel-view canvas shows path image 0, scaled up: downsample it back and compare with Node's
    const novel = await sharp(await (await page.$("#novel"))!.screenshot()).resize(w, h, { kernel: "nearest" }).removeAlpha().raw().toBuffer();
    const n0 = node.images[0]!;
    let err = 0;
    for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) err += Math.abs(novel[3 * i + c]! / 255 - n0[c * h * w + i]!);
    assert.ok(err / (3 * h * w) < 0.02, `on-screen novel view differs from Node's by ${err / (3 * h * w)} on average`);

    // the frame tile with the strongest residual: its screenshot is reddest where Node's overlay is most opaque
    const ramp = residualRamp(nodeAnalysis.residuals);
    const f = handFrame;
    const alpha = residualRgba(nodeAnalysis.residuals[f]!, h, w, ramp).filter((_, i) => i % 4 === 3);
    const tiles = await page.$$("#frames .tile canvas.overlay");
    const tile = await sharp(await tiles[f]!.screenshot()).resize(w, h, { kernel: "nearest" }).removeAlpha().raw().toBuffer();
    const redness = Array.from({ length: h * w }, (_, i) => tile[3 * i]! - (tile[3 * i + 1]! + tile[3 * i + 2]!) / 2);
    const hot = redness.map((_, i) => i).filter((i) => alpha[i]! > 150);
    const cold = redness.map((_, i) => i).filter((i) => alpha[i]! === 0);
    assert.ok(hot.length > 0 && cold.length > 0, "the frame has both clear and opaque overlay pixels");
    const mean = (ix: number[]) => ix.reduce((a, i) => a + redness[i]!, 0) / ix.length;
    assert.ok(mean(hot) > mean(cold) + 60, `screenshot redness: ${mean(hot).toFixed(0)} where Node's residual is high, ${mean(cold).toFixed(0)} where it is low`);

    // the 3-D view drew orange (input) and blue (in-between) frusta
    const v3 = await sharp(await (await page.$("#view3d"))!.screenshot()).removeAlpha().raw().toBuffer();
    let orange = 0;
    let blue = 0;
    for (let i = 0; i < v3.length; i += 3) {
      const [r, g, b] = [v3[i]!, v3[i + 1]!, v3[i + 2]!];
      if (r > 180 && g > 90 && g < 190 && b < 110) orange++;
      if (b > 180 && r < 130 && g > 120) blue++;
    }
    assert.ok(orange > 20 && blue > 20, `frusta drawn (orange ${orange} px, blue ${blue} px)`);
  });

  it("decodes a dropped video in the page: 24 frames at evenly spaced times", async () => {
    // 36 grey frames at 12 fps (3 s), frame i of level 7·i: frame k of 24 is read at t = (k + ½)·3/24 s, inside
    // source frame ⌊1.5k + 0.75⌋ (never on a frame boundary)
    const tmp = mkdtempSync(join(tmpdir(), "wrz-video-"));
    try {
      const side = 48;
      const raw = Buffer.alloc(36 * side * side * 3);
      for (let i = 0; i < 36; i++) raw.fill(7 * i, i * side * side * 3, (i + 1) * side * side * 3);
      const file = join(tmp, "grey.webm");
      const ff = spawnSync(findFfmpeg().path, ["-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${side}x${side}`, "-r", "12", "-i", "-", "-c:v", "libvpx", "-b:v", "2M", "-y", file], { input: raw });
      assert.equal(ff.status, 0, String(ff.stderr));
      const picker = (await page.$("input#files")) as unknown as ElementHandle<HTMLInputElement>;
      await picker.uploadFile(file);
      await page.waitForFunction(() => (globalThis as { wrzViewer?: { clip?: { name: string } } }).wrzViewer?.clip?.name.startsWith("grey.webm") ?? false, { timeout: 20_000 });
      const levels = await page.evaluate(() => {
        const s = (globalThis as unknown as { wrzViewer: { clip: { frames: { image: Float32Array }[] } } }).wrzViewer;
        return s.clip.frames.map((f) => (255 * f.image.reduce((a, b) => a + b, 0)) / f.image.length);
      });
      assert.equal(levels.length, 24);
      // a seek lands on the source frame at the requested time or, depending on the decoder's timestamps, on a
      // neighbour (seen: 223 for 231 in a fresh clone under load): each frame within one source frame of its time,
      // and the sequence in order, spanning the clip
      const frameOf = (v: number) => Math.round(v / 7);
      levels.forEach((v, k) => {
        const expected = Math.floor(1.5 * k + 0.75);
        assert.ok(Math.abs(v - 7 * frameOf(v)) < 4, `frame ${k}: grey ${v.toFixed(1)} is no source frame's level`);
        assert.ok(Math.abs(frameOf(v) - expected) <= 1, `frame ${k}: source frame ${frameOf(v)}, expected ${expected} ± 1`);
      });
      assert.ok(levels.every((v, k) => k === 0 || frameOf(v) >= frameOf(levels[k - 1]!)), `frames in time order: ${levels.map(frameOf)}`);
      assert.ok(new Set(levels.map(frameOf)).size >= 20, `24 reads cover distinct times: ${levels.map(frameOf)}`);
      assert.deepEqual(problems, [], "no console errors");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("a dropped file that is not a model is one clear line on the page, and the loaded model stays", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "wrz-badmodel-"));
    try {
      const file = join(tmp, "bad.safetensors");
      writeFileSync(file, "not a safetensors file");
      const picker = (await page.$("input#modelFile")) as unknown as ElementHandle<HTMLInputElement>;
      await picker.uploadFile(file);
      await page.waitForFunction(() => document.getElementById("status")!.classList.contains("error"), { timeout: 10_000 });
      const status = await page.$eval("#status", (el) => el.textContent ?? "");
      assert.match(status, /^bad\.safetensors: /);
      assert.doesNotMatch(status, /internal error|\n/);
      assert.match(await page.$eval("#modelInfo", (el) => el.textContent ?? ""), /^models\/small\.safetensors: stage 1/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
