import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScene, writeScene } from "../../src/data/sceneIo.ts";
import { encodePng } from "../../src/data/images.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { fakeScene } from "../helpers/fakeScene.ts";

const root = mkdtempSync(join(tmpdir(), "wrz-sceneio-err-"));
const good = join(root, "good");
before(() => writeScene(good, fakeScene({ h: 24, w: 32, frames: 3 })));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A copy of the good scene folder, changed by `edit`. */
function broken(edit: (dir: string, json: Record<string, unknown> & { frames: Record<string, unknown>[] }) => unknown): string {
  const dir = join(root, `case${n++}`);
  cpSync(good, dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, "scene.json"), "utf8")) as Parameters<typeof edit>[1];
  const changed = edit(dir, json);
  if (changed !== false) writeFileSync(join(dir, "scene.json"), JSON.stringify(json));
  return dir;
}

async function rejectsWithLine(dir: string, expected: (dir: string) => RegExp): Promise<void> {
  await assert.rejects(readScene(dir), (err: unknown) => {
    assert.ok(err instanceof WildrayzerError, `expected a WildrayzerError, got ${String(err)}`);
    assert.doesNotMatch(err.message, /\n/, "one line");
    assert.match(err.message, expected(dir));
    return true;
  });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("readScene rejects bad input with one line naming the file", () => {
  it("a missing scene.json", async () => {
    await rejectsWithLine(join(root, "nowhere"), (d) => new RegExp(`^${esc(join(d, "scene.json"))}: file not found \\(expected a scene JSON file\\)$`));
  });

  it("malformed JSON", async () => {
    const dir = broken((d) => (writeFileSync(join(d, "scene.json"), '{ "scene_name": "x", "frames": [ '), false));
    await rejectsWithLine(dir, (d) => new RegExp(`^${esc(join(d, "scene.json"))}: not valid JSON \\(.+\\)$`));
  });

  it("a missing frames key", async () => {
    const dir = broken((_, j) => delete (j as Partial<typeof j>).frames);
    await rejectsWithLine(dir, (d) => new RegExp(`^${esc(join(d, "scene.json"))}: frames: .*expected array, received undefined$`));
  });

  it("fxfycxcy with 3 numbers", async () => {
    const dir = broken((_, j) => (j.frames[1]!.fxfycxcy = [30, 30, 16]));
    await rejectsWithLine(dir, (d) => new RegExp(`^${esc(join(d, "scene.json"))}: frames\\[1\\]\\.fxfycxcy: must have 4 numbers, got 3$`));
  });

  it("a w2c that is not a rigid transform, and an unknown key", async () => {
    const dir = broken((_, j) => {
      (j.frames[2]!.w2c as number[][])[0] = [2, 0, 0, 0];
      j.frames[0]!.extra = 1;
    });
    await rejectsWithLine(dir, (d) =>
      new RegExp(`^${esc(join(d, "scene.json"))}: frames\\[0\\]: Unrecognized key: "extra"; frames\\[2\\]\\.w2c: rotation part is not orthonormal$`),
    );
  });

  it("a missing image file", async () => {
    const dir = broken((d) => (rmSync(join(d, "images", "00001.png")), false));
    await rejectsWithLine(dir, (d) => new RegExp(`^${esc(join(d, "images", "00001.png"))}: file not found \\(expected a frame image\\)$`));
  });

  it("an image of the wrong size", async () => {
    const bytes = await encodePng(new Float32Array(3 * 24 * 16), 24, 16);
    const dir = broken((d) => (writeFileSync(join(d, "static", "00002.png"), bytes), false));
    await rejectsWithLine(dir, (d) => new RegExp(`^${esc(join(d, "static", "00002.png"))}: image is 16×24 \\(w×h\\), expected 32×24 \\(as scene.json h/w\\)$`));
  });

  it("without h/w, an image whose size differs from the first frame's", async () => {
    const bytes = await encodePng(new Float32Array(3 * 20 * 32), 20, 32);
    const dir = broken((d, j) => {
      delete j.h;
      delete j.w;
      writeFileSync(join(d, "images", "00002.png"), bytes);
    });
    await rejectsWithLine(dir, (d) => new RegExp(`^${esc(join(d, "images", "00002.png"))}: image is 32×20 \\(w×h\\), expected 32×24 \\(as images/00000.png\\)$`));
  });

  it("a corrupt PNG", async () => {
    const dir = broken((d) => {
      const p = join(d, "masks", "00000.png");
      writeFileSync(p, readFileSync(p).subarray(0, 20));
      return false;
    });
    await rejectsWithLine(dir, (d) => new RegExp(`^${esc(join(d, "masks", "00000.png"))}: cannot decode image \\(.+\\)$`));
  });
});
