/**
 * `run --renderer model` (and `masks --pseudo --renderer model`) with a stage-3 file renders from masked input tokens
 * by default and says so in its verdict, report and run.json / masks.json (the fraction replaced computed here by hand over the same windows); the warp renderer reads
 * no tokens, so `--token-masks motion` with it is a one-line user error.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";
import { buildProgram } from "../../src/cli/main.ts";
import { saveTinyWildrayzer } from "../helpers/checkpoint.ts";
import { dispose } from "../../src/engine/params.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { readClip } from "../../src/data/readers/index.ts";
import { loadMobilenetV2 } from "../../src/features/mobilenetV2.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { droppedFraction, makeInputMasker } from "../../src/pipeline/maskedInputs.ts";
import { maskWindows } from "../../src/pipeline/windows.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-run-masked-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const ckpt = join(dir, "s3.safetensors");
const scene = join(dir, "scene");

before(async () => {
  await engine();
  await saveTinyWildrayzer(ckpt, 3);
  await writeScene(scene, generateScene(5, { ...RUN_PRESETS.tiny.data, frames: 6, movers: [1, 2] }));
});

describe("run --token-masks", () => {
  it("a stage-3 file with --renderer model masks by default: verdict, report.html and run.json say so, with the fraction replaced", async () => {
    const out = join(dir, "out");
    const r = await runCli(["run", scene, "--out", out, "--ckpt", ckpt, "--renderer", "model", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { tokenMasks: string; tokensReplaced: number };
    assert.equal(info.tokenMasks, "motion");
    // by hand: the same windows of the clip as run reads it, the masker's keep-masks
    const clip = await readClip(scene, { size: 32 });
    const { params, meta } = loadModel(ckpt);
    const fx = await loadMobilenetV2();
    const masker = makeInputMasker(params, meta.model, fx);
    const img = 3 * clip.h * clip.w;
    const drops: number[] = [];
    for (const win of maskWindows(clip.frames.length, meta.model.views)) {
      const x = new Float32Array(meta.model.views * img);
      [...win.inputs, ...win.targets].forEach((f, j) => x.set(clip.frames[f]!.image, j * img));
      drops.push(droppedFraction(await masker.keep(x, [1, meta.model.views, 3, clip.h, clip.w])));
    }
    masker.dispose();
    fx.dispose();
    dispose(params);
    const mean = drops.reduce((a, x) => a + x, 0) / drops.length;
    assert.ok(mean > 0 && mean < 1, `some tokens replaced (${mean})`);
    assert.ok(Math.abs(info.tokensReplaced - mean) < 1e-6, `run.json ${info.tokensReplaced} vs ${mean}`);
    const line = `input tokens masked by the motion estimator (the stage-3 default, ${(100 * mean).toFixed(1)} % of the input tokens replaced)`;
    assert.ok(r.stdout.includes(line), r.stdout);
    assert.ok(readFileSync(join(out, "report.html"), "utf8").includes(line), "the report's verdict");
    // masks --pseudo --renderer model renders the same windows the same way
    const m = await runCli(["masks", "--pseudo", "--renderer", "model", "--input", scene, "--out", join(dir, "masks"), "--ckpt", ckpt, "--quiet"]);
    assert.equal(m.code, 0, m.stderr);
    const mj = JSON.parse(readFileSync(join(dir, "masks", "masks.json"), "utf8")) as { tokenMasks: string; tokensReplaced: number };
    assert.equal(mj.tokenMasks, "motion");
    assert.ok(Math.abs(mj.tokensReplaced - mean) < 1e-6, `masks.json ${mj.tokensReplaced} vs ${mean}`);
    assert.ok(m.stdout.includes(line), m.stdout);
  });

  it("--token-masks motion with the warp renderer exits 2 with one line; render, run and masks --help state the stage rule", async () => {
    const bad = await runCli(["run", scene, "--out", join(dir, "bad"), "--ckpt", ckpt, "--token-masks", "motion"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.match(bad.stderr, /--token-masks motion: the warp renderer reads no tokens; use it with --renderer model/);
    const commands = buildProgram().commands;
    for (const [name, scope] of [["run", "with --renderer model"], ["render", ""], ["masks", "--renderer model:"]] as const) {
      const help = commands.find((c) => c.name() === name)!.helpInformation().replace(/\s+/g, " ");
      assert.ok(help.includes(`--token-masks <mode> ${scope}`.replace(/ $/, "")), `${name} --help names --token-masks`);
      assert.match(help, /default: motion for a stage-3 model file with a motion estimator, none for stage 1\/2/, `${name} --help states the stage rule`);
    }
  });
});
