/**
 * The README's viewer screenshot, taken the way a person uses the page: `wildrayzer view`'s build in headless
 * Chromium (wasm), the sample tennis frames chosen in the file picker (the same path as dropping them), run with
 * the page's default model (the shipped wildrayzer-small: its motion estimator draws the masks), then a path
 * dragged on the look-around pad. Prints the times a person waits and, when the frames' folder has a `masks/`
 * sibling (DAVIS), the page's masks' mean IoU against them inside the centred square the page sees; writes
 * docs/viewer.png.
 *
 *   node --import tsx scripts/viewerScreenshot.ts [--frames DIR] [--out docs/viewer.png]
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import type { ElementHandle } from "puppeteer-core";
import { buildViewer, serveStatic } from "../src/cli/view.ts";
import { writeFileAtomic } from "../src/engine/files.ts";
import { launchChromium, noChromium } from "../test/helpers/browser.ts";
import { REAL } from "../test/helpers/realData.ts";

const { values } = parseArgs({ options: { frames: { type: "string", default: join(REAL, "tennis", "frames") }, out: { type: "string", default: "docs/viewer.png" } } });
if (noChromium) throw new Error(noChromium);
const dir = resolve(values.frames!);
const files = readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => join(dir, f));

const b = await buildViewer({ quiet: true });
const { server, url } = await serveStatic(b.dir, 0, "127.0.0.1");
const { browser, close } = await launchChromium();
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 960 });
  page.on("console", (m) => m.type() === "error" && console.error(`console: ${m.text()}`));
  page.on("pageerror", (e) => console.error(`page: ${(e as Error).message}`));
  type S = {
    phase: string;
    error?: string;
    clip?: { frames: { name: string }[] };
    analysis?: { motion?: { masks: Uint8Array[] } };
    timings: Record<string, number>;
    path?: { kind: string };
  };
  const phase = () => page.evaluate(() => (globalThis as unknown as { wrzViewer: S }).wrzViewer.phase);
  const t0 = performance.now();
  await page.goto(`${url}?device=wasm`);
  await page.waitForFunction(() => (globalThis as unknown as { wrzViewer: S }).wrzViewer.phase === "ready", { timeout: 60_000 });
  const tReady = performance.now();
  const picker = (await page.$("input#files")) as unknown as ElementHandle<HTMLInputElement>;
  await picker.uploadFile(...files);
  await page.waitForFunction(() => ((globalThis as unknown as { wrzViewer: S }).wrzViewer.clip?.frames.length ?? 0) > 0, { timeout: 60_000 });
  await page.evaluate(() => ((document.getElementById("play") as HTMLInputElement).checked = false));
  const tFrames = performance.now();
  await page.click("#run");
  await page.waitForFunction(() => ["done", "error"].includes((globalThis as unknown as { wrzViewer: S }).wrzViewer.phase), { timeout: 120_000 });
  const tDone = performance.now();
  if ((await phase()) === "error") throw new Error(await page.evaluate(() => (globalThis as unknown as { wrzViewer: S }).wrzViewer.error ?? ""));
  // drag a loop on the pad: a small circle around the first input camera
  const pad = (await (await page.$("#pad"))!.boundingBox())!;
  const cx = pad.x + pad.width / 2;
  const cy = pad.y + pad.height / 2;
  await page.mouse.move(cx + 40, cy);
  await page.mouse.down();
  for (let i = 1; i <= 24; i++) await page.mouse.move(cx + 40 * Math.cos((2 * Math.PI * i) / 24), cy + 40 * Math.sin((2 * Math.PI * i) / 24));
  await page.mouse.up();
  await page.waitForFunction(() => (globalThis as unknown as { wrzViewer: S }).wrzViewer.path?.kind === "drawn" && (globalThis as unknown as { wrzViewer: S }).wrzViewer.phase !== "running", { timeout: 60_000 });
  const tPath = performance.now();
  await page.evaluate(() => {
    const s = document.getElementById("scrub") as HTMLInputElement;
    s.value = "3";
    s.dispatchEvent(new Event("input"));
  });
  const shot = await page.screenshot({ fullPage: true });
  const png = await sharp(shot).resize({ width: 1024 }).png({ palette: true, quality: 90, compressionLevel: 9 }).toBuffer();
  writeFileAtomic(values.out!, png);
  const t = await page.evaluate(() => (globalThis as unknown as { wrzViewer: S }).wrzViewer.timings);
  const got = await page.evaluate(() => {
    const v = (globalThis as unknown as { wrzViewer: S }).wrzViewer;
    return { names: v.clip!.frames.map((f) => f.name), masks: v.analysis?.motion?.masks.map((m) => Array.from(m)) ?? null };
  });
  const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
  process.stdout.write(
    `${files.length} frames from ${dir}\npage + engine + model ready ${s(tReady - t0)}; frames decoded ${s(tFrames - tReady)}; ` +
      `run to the first novel views ${s(tDone - tFrames)} (cameras + ${got.masks ? "masks" : "residuals"} ${s(t.analyse!)}, then the path); dragged path ${s(tPath - tDone)}\n` +
      `wrote ${values.out} (${(png.length / 1024).toFixed(0)} KiB)\n`,
  );
  const truth = join(dirname(dir), "masks");
  if (got.masks && existsSync(truth)) {
    // the ground truth as the page sees the frame: its centred square, at the working size (nearest, then > 0)
    const size = Math.round(Math.sqrt(got.masks[0]!.length));
    const ious: number[] = [];
    for (const [f, name] of got.names.entries()) {
      const file = join(truth, `${name}.png`);
      if (!existsSync(file)) continue;
      const meta = await sharp(file).metadata();
      const side = Math.min(meta.width!, meta.height!);
      const g = await sharp(file).extract({ left: Math.floor((meta.width! - side) / 2), top: Math.floor((meta.height! - side) / 2), width: side, height: side }).resize(size, size, { kernel: "nearest" }).greyscale().raw().toBuffer();
      let inter = 0;
      let union = 0;
      got.masks[f]!.forEach((m, i) => {
        const gt = g[i]! > 0 ? 1 : 0;
        inter += m & gt;
        union += m | gt;
      });
      ious.push(union === 0 ? 1 : inter / union);
    }
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    const cover = got.masks.reduce((a, m) => a + m.reduce((x, y) => x + y, 0), 0) / (got.masks.length * size * size);
    process.stdout.write(`motion masks: ${(100 * cover).toFixed(1)} % of the pixels; mean IoU against ${truth} (${ious.length} frames, centred square at ${size}²): ${mean.toFixed(3)}\n`);
  }
} finally {
  await close();
  server.close();
}
