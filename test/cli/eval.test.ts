import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";
import { saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { heldOutSamples } from "../../src/eval/evaluate.ts";
import { psnrHost } from "../../src/eval/metrics.ts";
import { HELD_OUT_SEED_START } from "../../src/data/config.ts";
import { clipWindows } from "../../src/data/sampling.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-eval-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = RUN_PRESETS.tiny; // 4 views: 2 inputs + 2 targets
const ckpt = join(dir, "ckpt.safetensors");
const clips = join(dir, "clips");

before(async () => {
  await engine();
  await saveUntrainedCheckpoint(ckpt, run, 4, 5);
  await writeScene(join(clips, "a"), generateScene(11, { ...run.data, frames: 7 }));
  await writeScene(join(clips, "b"), generateScene(12, { ...run.data, frames: 4 }));
  await writeScene(join(dir, "short"), generateScene(13, { ...run.data, frames: 3 }));
});

type Report = { scenes: number; targets: number; psnr: Record<string, number>; rotationErrorDeg: { model: number; identity: number } };
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8")) as Report;

/** Mean PSNR of nearest-input copy and mean of inputs over the first `targets` targets of held-out samples, by hand. */
function baselines(seeds: number[], path: string, targets: number) {
  const { scenes, orders } = heldOutSamples(seeds, { ...run.data, path: path as typeof run.data.path }, run.model);
  const near: number[] = [];
  const mean: number[] = [];
  scenes.forEach((s, i) => {
    const [a, b] = [orders[i]![0]!, orders[i]![1]!];
    for (const f of orders[i]!.slice(2, 2 + targets)) {
      const gt = s.frames[f]!.image;
      near.push(psnrHost(s.frames[Math.abs(f - a) <= Math.abs(f - b) ? a : b]!.image, gt));
      mean.push(psnrHost(s.frames[a]!.image.map((x, j) => (x + s.frames[b]!.image[j]!) / 2), gt));
    }
  });
  const avg = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  return { near: avg(near), mean: avg(mean) };
}

describe("wildrayzer eval", () => {
  it("given seeds, a path family and a target count: the baselines match a hand computation", async () => {
    const out = join(dir, "seeds.json");
    const first = HELD_OUT_SEED_START + 3;
    const r = await runCli(["--quiet", "eval", "--ckpt", ckpt, "--data", `synth:${first}..${first + 2}`, "--path", "jitter", "--targets", "1", "--json", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^checkpoint step 5; 3 synthetic scenes \(jitter paths, seeds 1000000003…1000000005, held out\), 3 target views$/m);
    const rep = readJson(out);
    assert.deepEqual([rep.scenes, rep.targets], [3, 3]);
    const want = baselines([first, first + 1, first + 2], "jitter", 1);
    assert.ok(Math.abs(rep.psnr.nearestInput! - want.near) < 1e-6, `nearest ${rep.psnr.nearestInput} vs ${want.near}`);
    assert.ok(Math.abs(rep.psnr.meanOfInputs! - want.mean) < 1e-6, `mean ${rep.psnr.meanOfInputs} vs ${want.mean}`);
    // another path family gives other scenes (the flag is applied)
    const walk = baselines([first, first + 1, first + 2], "walk", 1);
    assert.ok(Math.abs(walk.near - want.near) > 1e-3, "walk and jitter samples differ");
    assert.ok(Number.isFinite(rep.rotationErrorDeg.model) && rep.rotationErrorDeg.identity > 0, "synthetic scenes have cameras");
  });

  it("a folder of clips is cut into windows of the model's views; one clip alone too", async () => {
    const views = run.model.views;
    const windows = clipWindows(7, views).length + clipWindows(4, views).length;
    const both = await runCli(["--quiet", "eval", "--ckpt", ckpt, "--data", clips, "--json"]);
    assert.equal(both.code, 0, both.stderr);
    const rep = JSON.parse(both.stdout) as Report;
    assert.deepEqual([rep.scenes, rep.targets], [windows, windows * (views - 2)]);
    assert.ok(Number.isFinite(rep.psnr.model!) && Number.isFinite(rep.rotationErrorDeg.model), "scene folders carry cameras");
    const one = await runCli(["--quiet", "eval", "--ckpt", ckpt, "--data", join(clips, "a")]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`1 clip from .*, ${clipWindows(7, views).length} windows of ${views} frames, ${clipWindows(7, views).length * 2} target views`));
  });

  it("--runtime onnx (the default) and --runtime jax give the same report", async () => {
    const args = ["--quiet", "eval", "--ckpt", ckpt, "--data", `synth:${HELD_OUT_SEED_START}..${HELD_OUT_SEED_START + 1}`, "--json"];
    const reports = [];
    for (const extra of [["--runtime", "jax"], ["--runtime", "onnx"], []]) {
      const r = await runCli([...args, ...extra]);
      assert.equal(r.code, 0, r.stderr);
      reports.push(JSON.parse(r.stdout) as Report & { focal: { model: number } });
    }
    const [jax, onnx, dflt] = reports as [Report & { focal: { model: number } }, Report & { focal: { model: number } }, Report & { focal: { model: number } }];
    for (const key of ["model", "identityCameras", "trueCameras"]) {
      assert.ok(Math.abs(jax.psnr[key]! - onnx.psnr[key]!) < 1e-4, `psnr.${key}: jax ${jax.psnr[key]} vs onnx ${onnx.psnr[key]}`);
    }
    assert.ok(Math.abs(jax.rotationErrorDeg.model - onnx.rotationErrorDeg.model) < 1e-3, "rotation error");
    assert.ok(Math.abs(jax.focal.model - onnx.focal.model) < 1e-5, "focal");
    assert.deepEqual(dflt, onnx, "the default runtime is onnx");
    const bad = await runCli([...args, "--runtime", "tfjs"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--runtime <kind>' argument 'tfjs' is invalid/);
  });

  it("on dynamic scenes with --inputs 3 and oracle token masks: stable keys, jax and ONNX agree", async () => {
    const args = ["--quiet", "eval", "--ckpt", ckpt, "--data", `synth:${HELD_OUT_SEED_START}..${HELD_OUT_SEED_START + 1}`, "--movers", "1,2", "--inputs", "3", "--token-masks", "oracle", "--json"];
    type Dyn = { inputViews: number; targets: number; psnrStatic: { model: number }; ssimStatic: { model: number }; psnrClean: { model: number }; perceptualStatic: { model: number }; tokenMasks: { source: string; dropped: number } };
    const runs: Dyn[] = [];
    for (const extra of [["--runtime", "jax"], []]) {
      const r = await runCli([...args, ...extra]);
      assert.equal(r.code, 0, r.stderr);
      runs.push(JSON.parse(r.stdout) as Dyn);
    }
    const [jax, onnx] = runs as [Dyn, Dyn];
    assert.equal(jax.inputViews, 3);
    assert.equal(jax.targets, 2, "2 scenes × (4 views − 3 inputs)");
    for (const key of ["psnrStatic", "ssimStatic", "psnrClean", "perceptualStatic"] as const) assert.ok(Number.isFinite(jax[key].model), `${key}.model`);
    assert.equal(jax.tokenMasks.source, "oracle");
    assert.ok(jax.tokenMasks.dropped > 0, "the movers' tokens are replaced");
    assert.ok(Math.abs(jax.psnrStatic.model - onnx.psnrStatic.model) < 1e-3, `masked forward: jax ${jax.psnrStatic.model} vs onnx ${onnx.psnrStatic.model}`);
  });

  it("bad inputs exit 2 with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["--inputs", "4"], /--inputs 4: the model has 4 views; at most 3 inputs leave a target/],
      [["--movers", "2"], /--movers 2: expected MIN,MAX moving objects per scene/],
      [["--token-masks", "motion"], /--token-masks motion: .* has no motion estimator/],
      [["--targets", "5"], /--targets 5: this model renders at most 2 targets/],
      [["--data", "synth:9..3"], /--data synth:9\.\.3: the last seed must be ≥ the first/],
      [["--data", "synth:x"], /--data synth:x: expected synth/],
      [["--data", join(dir, "nothing")], /no such file or folder/],
      [["--data", clips, "--path", "jitter"], /--path jitter: only for synthetic data/],
      [["--path", "zigzag"], /--path zigzag: expected one of walk, pan, jitter, orbit, mixed/],
      [["--data", join(dir, "short")], /short: 3 frames, the model needs at least 4 \(2 inputs \+ 2 targets\)/],
      [["--scenes", "0"], /--scenes 0: expected an integer ≥ 1/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(["--quiet", "eval", "--ckpt", ckpt, ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});
