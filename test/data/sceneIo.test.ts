import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScene, writeScene } from "../../src/data/sceneIo.ts";
import { mat4FromRt } from "../../src/geometry/mat4.ts";
import type { Scene } from "../../src/data/scene.ts";
import { fakeScene } from "../helpers/fakeScene.ts";

const root = mkdtempSync(join(tmpdir(), "wrz-sceneio-"));
after(() => rmSync(root, { recursive: true, force: true }));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe("writeScene → readScene", () => {
  it("gives back the same scene: images within 1/255, masks exact, depth within 1 mm, cameras to 1e-6", async () => {
    const scene = fakeScene({ h: 24, w: 32, frames: 3 });
    const dir = join(root, "roundtrip");
    await writeScene(dir, scene, { generator: { seed: 7, config: { size: 32, movers: [0, 2] } } });
    assert.deepEqual(listFiles(dir), [
      ...["depth", "images", "masks", "static"].flatMap((d) => ["00000", "00001", "00002"].map((s) => `${d}/${s}.png`)),
      "scene.json",
    ].sort());
    const { scene: back, meta } = await readScene(dir);
    assert.deepEqual(meta, { generator: { seed: 7, config: { size: 32, movers: [0, 2] } } });
    assert.deepEqual([back.name, back.h, back.w, back.frames.length], [scene.name, 24, 32, 3]);
    scene.frames.forEach((f, t) => {
      const b = back.frames[t]!;
      assert.equal(b.name, f.name);
      for (const key of ["image", "static"] as const) {
        const got = b[key]!, want = f[key]!;
        assert.equal(got.length, want.length, `${key} length`);
        want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= 1 / 255, `frame ${t} ${key}[${i}]: ${got[i]} vs ${v}`));
      }
      assert.deepEqual([...b.mask!], [...f.mask!], `frame ${t} mask`);
      f.depth!.forEach((v, i) => assert.ok(Math.abs(b.depth![i]! - v) <= 1e-3, `frame ${t} depth[${i}]: ${b.depth![i]} vs ${v}`));
      b.camera!.c2w.forEach((v, i) => assert.ok(Math.abs(v - f.camera!.c2w[i]!) <= 1e-6, `frame ${t} c2w[${i}]`));
      assert.deepEqual(b.camera!.fxfycxcy, f.camera!.fxfycxcy);
    });
  });

  it("stores w2c, the inverse of c2w, as LVSM's nested rows, with fxfycxcy in pixels", async () => {
    // A camera at (1, 2, 3) with the identity rotation: w2c = [I −t].
    const scene: Scene = {
      name: "one",
      h: 2,
      w: 2,
      frames: [{ name: "a", image: new Float32Array(12), camera: { c2w: mat4FromRt([1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 2, 3]), fxfycxcy: [2, 2, 1, 1] } }],
    };
    const dir = join(root, "w2c");
    await writeScene(dir, scene);
    const json = JSON.parse(readFileSync(join(dir, "scene.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(json, {
      scene_name: "one",
      h: 2,
      w: 2,
      frames: [{ image_path: "images/a.png", fxfycxcy: [2, 2, 1, 1], w2c: [[1, 0, 0, -1], [0, 1, 0, -2], [0, 0, 1, -3], [0, 0, 0, 1]] }],
    });
  });

  it("writes byte-identical files for the same scene", async () => {
    const scene = fakeScene({ h: 16, w: 16, frames: 2, seed: 3 });
    const a = join(root, "same_a"), b = join(root, "same_b");
    await writeScene(a, scene, { generator: { seed: 3, config: {} } });
    await writeScene(b, fakeScene({ h: 16, w: 16, frames: 2, seed: 3 }), { generator: { seed: 3, config: {} } });
    const files = listFiles(a);
    assert.deepEqual(listFiles(b), files);
    for (const f of files) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs`);
  });

  it("keeps a scene without cameras or ground truth, and uses indices for unsafe frame names", async () => {
    const scene: Scene = {
      name: "plain",
      h: 4,
      w: 6,
      frames: ["my frame.jpg", "other/one"].map((name, i) => ({ name, image: new Float32Array(3 * 24).fill(i / 2) })),
    };
    const dir = join(root, "plain");
    await writeScene(dir, scene);
    assert.deepEqual(listFiles(dir), ["images/00000.png", "images/00001.png", "scene.json"]);
    const { scene: back, meta } = await readScene(dir);
    assert.deepEqual(meta, {});
    assert.deepEqual(back.frames.map((f) => [f.name, f.camera, f.mask, f.static, f.depth]), [
      ["00000", undefined, undefined, undefined, undefined],
      ["00001", undefined, undefined, undefined, undefined],
    ]);
    assert.ok(back.frames[1]!.image.every((v) => Math.abs(v - 0.5) <= 1 / 255), "grey 0.5 frame");
  });
});
