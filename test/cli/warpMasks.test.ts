import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { runCli } from "../helpers/cli.ts";
import { panClip } from "../helpers/panClip.ts";
import { encodePng } from "../../src/data/images.ts";
import { maskIou } from "../../src/masks/pipeline.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-warpmasks-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const frames = join(dir, "frames");
// 96×64 (not square), the mover starts at x = 12: outside the centred 64×64 square a square crop would keep
const clip = panClip({ frames: 7, h: 64, w: 96, moverStart: [10, 34] });

before(async () => {
  mkdirSync(frames);
  for (const [i, f] of clip.frames.entries()) writeFileSync(join(frames, `shot_${i}.png`), await encodePng(f, clip.h, clip.w));
});

describe("wildrayzer masks --pseudo --renderer warp", () => {
  it("writes 0/255 masks at the input's full size named after the frames, covering the whole frame; masks.json; debug page", async () => {
    const out = join(dir, "out");
    const r = await runCli(["masks", "--pseudo", "--renderer", "warp", "--input", frames, "--out", out, "--spacing", "1", "--neighbours", "4", "--debug", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 7 masks/);
    const summary = JSON.parse(readFileSync(join(out, "masks.json"), "utf8"));
    assert.equal(summary.renderer, "warp");
    assert.deepEqual(summary.size, [96, 64]);
    assert.deepEqual(summary.warp, { neighbours: 4, spacing: 1 });
    const ious: number[] = [];
    for (let i = 0; i < 7; i++) {
      const png = sharp(join(out, `shot_${i}.png`));
      const meta = await png.metadata();
      assert.deepEqual([meta.width, meta.height], [96, 64], "the input frame's size");
      const { data } = await png.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      assert.ok(data.every((v) => v === 0 || v === 255), "binary 0/255");
      ious.push(maskIou(Uint8Array.from(data, (v) => (v ? 1 : 0)), clip.masks[i]!));
      if (i === 0) {
        let left = 0;
        for (let y = 0; y < 64; y++) for (let x = 0; x < 16; x++) left += data[y * 96 + x] ? 1 : 0;
        assert.ok(left > 20, `frame 0: the mover left of the centred square is found (${left} px)`);
      }
    }
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    assert.ok(mean >= 0.6, `mIoU against the true masks ${mean.toFixed(3)} (${ious.map((v) => v.toFixed(2)).join(" ")})`);
    const html = readFileSync(join(out, "debug.html"), "utf8");
    for (const label of ["static rendering", "fused evidence", "final (GrabCut)"]) assert.ok(html.includes(label), label);
    const srcs = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(srcs.length >= 7 * 10, `${srcs.length} images`);
    for (const s of srcs) assert.ok(existsSync(join(out, s)), s);
  });

  it("a bad --renderer value: one line, exit 2, nothing written", async () => {
    const out = join(dir, "bad");
    const r = await runCli(["masks", "--pseudo", "--renderer", "magic", "--input", frames, "--out", out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--renderer.*magic.*model, warp/);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    assert.ok(!existsSync(out), "nothing written");
  });
});
