import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildReport, cameraPathSvg, colourDepth, turbo, writeReport } from "../../src/eval/report.ts";
import { decodeImage, decodeMask } from "../../src/data/images.ts";
import { mat4FromRt } from "../../src/geometry/mat4.ts";
import type { Frame } from "../../src/data/scene.ts";
import { fakeScene } from "../helpers/fakeScene.ts";

const root = mkdtempSync(join(tmpdir(), "wrz-report-"));
after(() => rmSync(root, { recursive: true, force: true }));

describe("buildReport / writeReport", () => {
  it("shows every row of every scene, and every <img> it references exists", async () => {
    const scenes = [fakeScene({ frames: 3, seed: 1, name: "a<b" }), fakeScene({ h: 16, w: 16, frames: 2, seed: 2 })];
    const files = await buildReport({ title: "test report", intro: "two fake scenes", scenes: scenes.map((scene) => ({ scene, caption: "fake" })) });
    const page = writeReport(root, files);
    assert.equal(page, join(root, "report.html"));
    const html = readFileSync(page, "utf8");
    const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(srcs.length, (3 + 2) * 4, "observed, static, mask and depth for each frame");
    for (const src of srcs) assert.ok(existsSync(join(root, src)), `${src} exists`);
    assert.deepEqual(new Set(srcs), new Set(files.images.keys()));
    for (const label of ["observed", "static (no movers)", "motion mask", "depth"]) assert.ok(html.includes(`<th>${label}`), `row ${label}`);
    assert.equal((html.match(/<svg /g) ?? []).length, 2, "one camera plot per scene");
    assert.match(html, /<path d="M[\d.]+ [\d.]+ L[\d.]+ [\d.]+ L[\d.]+ [\d.]+"/, "3 cameras joined by a path");
    assert.match(html, /image-rendering:pixelated/);
    assert.ok(html.includes("a&lt;b") && !html.includes("a<b"), "scene names are escaped");
    assert.match(html, /width="96" height="72"/, "32×24 shown at 3×");
    // The files hold the scene's own pixels.
    const s0 = scenes[0]!.frames[1]!;
    const img = await decodeImage(readFileSync(join(root, srcs.find((s) => s.includes("00_a_b/image_001"))!)), "img");
    img.image.forEach((v, i) => assert.ok(Math.abs(v - s0.image[i]!) <= 0.5 / 255 + 1e-6, `pixel ${i}`));
    const mask = await decodeMask(readFileSync(join(root, "report_files/00_a_b/mask_001.png")), "mask");
    assert.deepEqual([...mask], [...s0.mask!]);
  });

  it("is byte-identical for the same scenes", async () => {
    const make = () => buildReport({ title: "t", scenes: [{ scene: fakeScene({ h: 8, w: 8, frames: 2 }) }] });
    const [a, b] = [await make(), await make()];
    assert.equal(a.html, b.html);
    for (const [k, v] of a.images) assert.ok(Buffer.from(v).equals(Buffer.from(b.images.get(k)!)), `${k} differs`);
  });

  it("leaves out rows that no frame has, and marks frames that lack one", async () => {
    const scene = fakeScene({ h: 4, w: 4, frames: 2 });
    for (const f of scene.frames) delete f.depth;
    delete scene.frames[1]!.static;
    const { html } = await buildReport({ title: "t", scenes: [{ scene }] });
    assert.ok(!html.includes("<th>depth"), "no depth row");
    assert.match(html, /<th>static \(no movers\)<\/th><td><img[^>]+><\/td><td class="none">—<\/td><\/tr>/);
  });
});

describe("cameraPathSvg", () => {
  const cam = (x: number, z: number, yaw: number): Frame => ({
    name: "f",
    image: new Float32Array(3),
    // Rotation about y by `yaw`: the viewing axis (third column) is (sin yaw, 0, cos yaw).
    camera: { c2w: mat4FromRt([Math.cos(yaw), 0, Math.sin(yaw), 0, 1, 0, -Math.sin(yaw), 0, Math.cos(yaw)], [x, 0, z]), fxfycxcy: [1, 1, 0, 0] },
  });

  it("puts x to the right and z up, fits the path with equal scales, and ticks along the viewing direction", () => {
    // Cameras at x = 0, 2 (z = 0) then z = 1: extent 2 over 240 − 2·28 = 184 px → 92 px per unit, centred at (120, 120).
    const svg = cameraPathSvg([cam(0, 0, 0), cam(2, 0, Math.PI / 2), cam(2, 1, Math.PI)]);
    assert.match(svg, /<path d="M28\.0 166\.0 L212\.0 166\.0 L212\.0 74\.0"/);
    assert.ok(svg.includes('<line x1="28.0" y1="166.0" x2="28.0" y2="152.0"'), "camera 0 looks along +z: tick up");
    assert.ok(svg.includes('<line x1="212.0" y1="166.0" x2="226.0" y2="166.0"'), "camera 1 looks along +x: tick right");
    assert.ok(svg.includes('<line x1="212.0" y1="74.0" x2="212.0" y2="88.0"'), "camera 2 looks along −z: tick down");
  });

  it("handles a single camera and no cameras", () => {
    assert.match(cameraPathSvg([cam(1, 1, 0)]), /<path d="M120\.0 120\.0"/);
    assert.match(cameraPathSvg([{ name: "x", image: new Float32Array(3) }]), /no cameras/);
  });
});

describe("depth colours", () => {
  it("turbo runs blue → green → red; near depth is red, far blue, missing depth black", () => {
    const argmax = (t: number) => turbo(t).indexOf(Math.max(...turbo(t)));
    assert.deepEqual([0.15, 0.5, 0.9].map(argmax), [2, 1, 0], "blue, green, red");
    const c = colourDepth(Float32Array.from([1, 3, Infinity, 70, 1.5]), [1, 3]);
    const rgb = (i: number) => [c[i], c[5 + i], c[10 + i]].map((v) => Math.fround(v!));
    assert.deepEqual(rgb(0), turbo(1).map(Math.fround), "nearest → turbo(1)");
    assert.deepEqual(rgb(1), turbo(0).map(Math.fround), "farthest → turbo(0)");
    assert.deepEqual([...rgb(2), ...rgb(3)], [0, 0, 0, 0, 0, 0], "∞ and past the PNG clip are black");
    assert.deepEqual(rgb(4), turbo(0.5).map(Math.fround), "1/1.5 is halfway between 1/3 and 1/1: inverse depth");
  });
});
