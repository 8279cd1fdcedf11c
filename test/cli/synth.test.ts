import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScene } from "../../src/data/sceneIo.ts";
import { synthConfigFromFlags, type SynthFlags } from "../../src/cli/synth.ts";
import { SYNTH_PRESETS } from "../../src/data/config.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { runCli } from "../helpers/cli.ts";

const root = mkdtempSync(join(tmpdir(), "wrz-synth-cli-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Relative path → sha256 of every file under `dir`. */
function hashes(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(
    files
      .map((e) => join(e.parentPath, e.name))
      .sort()
      .map((p) => [p.slice(dir.length + 1), createHash("sha256").update(readFileSync(p)).digest("hex")]),
  );
}

const SMALL = ["--preset", "tiny", "--size", "32", "--frames", "3", "--spp", "1"];

describe("wildrayzer synth", { concurrency: 3 }, () => {
  it("writes one scene folder per seed, byte-identical on a second run", async () => {
    const [a, b] = [join(root, "a"), join(root, "b")];
    const args = ["synth", ...SMALL, "--scenes", "2", "--movers", "1..2", "--seed", "5", "--path", "orbit"];
    const r = await runCli([...args, "--out", a]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^synth: wrote 2 scenes to ${a} \\(seeds 5\\.\\.6, train; 3 frames of 32×32, movers 1\\.\\.2, path orbit, texture smooth, spp 1\\)\\n$`));
    assert.match(r.stderr, /^synth: 2\/2 scenes \([\d.]+ m?s\)\n$/, "stderr is a pipe: one summary line, no bar");
    const files = hashes(a);
    const perScene = ["scene.json", ...["images", "static", "masks", "depth"].flatMap((d) => [0, 1, 2].map((i) => `${d}/0000${i}.png`))];
    assert.deepEqual([...files.keys()], ["scene_00000", "scene_00001"].flatMap((s) => perScene.map((f) => join(s, f))).sort());
    const r2 = await runCli([...args, "--out", b]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(hashes(b), files);

    const { scene, meta } = await readScene(join(a, "scene_00001"));
    assert.equal(meta.generator?.seed, 6);
    assert.deepEqual(meta.generator?.config, synthConfigFromFlags({ preset: "tiny", size: "32", frames: "3", spp: "1", movers: "1..2", path: "orbit" }));
    assert.deepEqual([scene.h, scene.w, scene.frames.length], [32, 32, 3]);
    assert.ok(scene.frames.every((f) => f.camera && f.mask && f.depth && f.static), "every frame has its ground truth");
  });

  it("--movers 0..0 gives static scenes: all-zero masks", async () => {
    const dir = join(root, "still");
    const r = await runCli(["--quiet", "synth", ...SMALL, "--movers", "0..0", "--scenes", "1", "--seed", "3", "--out", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", "--quiet: no progress line");
    const { scene } = await readScene(join(dir, "scene_00000"));
    for (const f of scene.frames) assert.ok(f.mask!.every((v) => v === 0), `frame ${f.name}: mask is all zero`);
  });

  // Each spawn costs seconds: two flag errors end to end here, the rest in-process below.
  const bad: [string[], RegExp][] = [
    [["--movers", "3..1"], /^wildrayzer: --movers 3\.\.1: movers must be \[min, max\] with min ≤ max\n$/],
    [["--size", "48"], /^wildrayzer: --size 48: must be one of 32, 64, 128, 256\n$/],
  ];
  for (const [flags, expected] of bad) {
    it(`${flags.join(" ")} is a usage error: exit 2, one line, nothing written`, async () => {
      const dir = join(root, `bad_${flags[0]!.slice(2)}`);
      const r = await runCli(["synth", "--out", dir, ...flags]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, expected);
      assert.equal(r.stdout, "");
      assert.throws(() => readdirSync(dir), /ENOENT/, "no output folder");
    });
  }
  it("--out is required", async () => {
    const r = await runCli(["synth"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^wildrayzer: required option '--out <dir>' not specified\n$/);
  });
});

describe("synthConfigFromFlags", () => {
  it("starts from the preset and overrides only the given flags", () => {
    const cfg = synthConfigFromFlags({ preset: "small", movers: "2", texture: "busy" });
    assert.deepEqual([cfg.size, cfg.frames, cfg.movers, cfg.texture, cfg.samplesPerPixel], [64, 8, [2, 2], "busy", 4]);
    assert.deepEqual(synthConfigFromFlags({ preset: "tiny", spp: "9", path: "jitter" }), { ...SYNTH_PRESETS.tiny, samplesPerPixel: 9, path: "jitter" });
  });

  const bad: [SynthFlags, string][] = [
    [{ movers: "two" }, "--movers two: expected MIN..MAX or N, e.g. 1..3"],
    [{ movers: "0..5" }, "--movers 0..5: Too big: expected number to be <=3"],
    [{ path: "zigzag" }, '--path zigzag: Invalid option: expected one of "walk"|"pan"|"jitter"|"orbit"|"mixed"'],
    [{ texture: "loud" }, '--texture loud: Invalid option: expected one of "smooth"|"mixed"|"busy"'],
    [{ spp: "2" }, "--spp 2: samplesPerPixel must be a perfect square (1, 4, 9, 16, …)"],
    [{ spp: "-1" }, "--spp -1: expected an integer ≥ 1"],
    [{ frames: "1" }, "--frames 1: Too small: expected number to be >=2"],
    [{ frames: "2.5" }, "--frames 2.5: expected an integer ≥ 1"],
    [{ preset: "huge" }, "--preset huge: unknown data preset (choose from tiny, small, paper)"],
  ];
  for (const [flags, message] of bad) {
    it(`${message.split(":")[0]} is a one-line usage error naming the flag`, () => {
      assert.throws(() => synthConfigFromFlags(flags), (e: unknown) => e instanceof WildrayzerError && e.exitCode === 2 && e.message === message);
    });
  }
});
