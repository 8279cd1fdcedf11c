import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../helpers/engine.ts";
import { resolveRunConfig } from "../../src/train/config.ts";
import { trainStage1, CHECKPOINT_FILE, METRICS_FILE } from "../../src/train/loop.ts";
import { trainBatch } from "../../src/train/batches.ts";
import { readCheckpointMeta } from "../../src/train/checkpoint.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";

before(engine);
const dir = mkdtempSync(join(tmpdir(), "wrz-train-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = resolveRunConfig("tiny", ["train.steps=4", "train.ckptEvery=2", "train.logEvery=1"]);

function tensors(path: string): Map<string, Float32Array> {
  const { file } = readCheckpointMeta(path);
  return new Map([...file.tensors].map(([k, t]) => [k, t.data]));
}

describe("config resolution", () => {
  it("applies dotted overrides and rejects unknown keys and bad values in one line", () => {
    assert.equal(resolveRunConfig("tiny", ["train.lr=3e-4"]).train.lr, 3e-4);
    assert.deepEqual(resolveRunConfig("tiny", ["model.layers.camera=2"]).model.layers.camera, 2);
    assert.throws(() => resolveRunConfig("tiny", ["train.nope=1"]), /--set train\.nope=1: unknown key train\.nope/);
    assert.throws(() => resolveRunConfig("tiny", ["train.lr=-1"]), /^WildrayzerError: config: train\.lr: /);
    assert.throws(() => resolveRunConfig("huge"), /unknown run preset/);
  });
});

describe("training batches", () => {
  it("are a pure function of (run, step): the same step gives the same pixels, the next step others", () => {
    const a = trainBatch(run, 3);
    const b = trainBatch(run, 3);
    const c = trainBatch(run, 4);
    assert.deepEqual(a.frames, b.frames);
    assert.ok(a.images.every((x, i) => x === b.images[i]), "same step, different pixels");
    assert.ok(a.images.some((x, i) => x !== c.images[i]), "next step, same pixels");
    assert.deepEqual(a.shape, [run.train.batch, run.model.views, 3, run.model.imageSize, run.model.imageSize]);
  });
  it("never draws held-out seeds", () => {
    const last = resolveRunConfig("tiny", ["train.seed=999"]);
    assert.throws(() => trainBatch(last, 500_000), /would draw held-out scenes/);
  });
});

describe("stage-1 training loop", () => {
  it("resumes exactly: stopped at step 2 and resumed gives the same weights and losses as an unbroken run", async () => {
    const whole = join(dir, "whole");
    const broken = join(dir, "broken");
    const r1 = await trainStage1({ run, outDir: whole });
    assert.equal(r1.steps, 4);
    const r2 = await trainStage1({ run, outDir: broken, stopAfter: 2 });
    assert.equal(r2.steps, 2);
    const r3 = await trainStage1({ run, outDir: broken, resume: true });
    assert.equal(r3.resumedFrom, 2);
    const a = tensors(join(whole, CHECKPOINT_FILE));
    const b = tensors(join(broken, CHECKPOINT_FILE));
    assert.equal(a.size, b.size);
    for (const [name, va] of a) {
      const vb = b.get(name)!;
      assert.ok(va.every((x, i) => x === vb[i]), `${name} differs after resuming`);
    }
    const lines = (p: string) => readFileSync(join(p, METRICS_FILE), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number; loss: number });
    assert.deepEqual(lines(broken).map((l) => [l.step, l.loss]), lines(whole).map((l) => [l.step, l.loss]));
    assert.equal(readCheckpointMeta(join(broken, CHECKPOINT_FILE)).meta.step, 4);
  });

  it("refuses to resume a run folder trained with another config", async () => {
    const other = resolveRunConfig("tiny", ["train.steps=4", "train.lr=1e-3", "train.ckptEvery=2"]);
    await assert.rejects(trainStage1({ run: other, outDir: join(dir, "whole"), resume: true }), /different config/);
  });

  it("stops with a message on a non-finite loss and keeps the last checkpoint", async () => {
    const wild = resolveRunConfig("tiny", ["train.steps=6", "train.lr=1e30", "train.warmupSteps=0", "train.clipNorm=0", "train.ckptEvery=1"]);
    const out = join(dir, "nan");
    await assert.rejects(trainStage1({ run: wild, outDir: out }), (err: unknown) => {
      assert.ok(err instanceof WildrayzerError, `expected a WildrayzerError, got ${String(err)}`);
      assert.match(err.message, /training diverged at step \d+ .*last good checkpoint/);
      assert.equal(err.exitCode, 1);
      return true;
    });
    assert.ok(existsSync(join(out, CHECKPOINT_FILE)), "the last checkpoint is gone");
    assert.ok(readCheckpointMeta(join(out, CHECKPOINT_FILE)).meta.step >= 1, "checkpoint step");
  });
});

describe("wildrayzer train killed with SIGKILL", () => {
  it("--seed sets the run seed: stored in the config, other first losses; out of range is one line, exit 2", async () => {
    const { runCli } = await import("../helpers/cli.ts");
    const firstLoss = (d: string) => (JSON.parse(readFileSync(join(d, METRICS_FILE), "utf8").split("\n")[0]!) as { loss: number }).loss;
    const [a, b] = [join(dir, "seed0"), join(dir, "seed3")];
    for (const [d, seed] of [[a, "0"], [b, "3"]] as const) {
      const r = await runCli(["--quiet", "train", "--preset", "tiny", "--steps", "1", "--seed", seed, "--out", d]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((JSON.parse(readFileSync(join(b, "config.json"), "utf8")) as { train: { seed: number } }).train.seed, 3);
    assert.notEqual(firstLoss(a), firstLoss(b), "other weights and scenes give another first loss");
    const bad = await runCli(["--quiet", "train", "--preset", "tiny", "--steps", "1", "--seed", "1000", "--out", join(dir, "bad")]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /train\.seed/);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  });

  it("--data DIR trains on a folder of clips: seeded windows of the clips' frames, inputs at the window ends", async () => {
    const { runCli } = await import("../helpers/cli.ts");
    const { writeScene } = await import("../../src/data/sceneIo.ts");
    const { generateScene } = await import("../../src/data/synth/index.ts");
    const { readClips } = await import("../../src/data/readers/index.ts");
    const base = resolveRunConfig("tiny");
    const footage = join(dir, "footage");
    await writeScene(join(footage, "a"), generateScene(21, { ...base.data, frames: 7 }));
    await writeScene(join(footage, "b"), generateScene(22, { ...base.data, frames: 5 }));
    const run = { ...base, dataDir: footage };
    const clips = await readClips(footage, { size: run.model.imageSize });
    const one = trainBatch(run, 4, clips);
    assert.deepEqual(trainBatch(run, 4, clips).images, one.images, "a pure function of (run, step, clips)");
    assert.notDeepEqual(trainBatch(run, 5, clips).images, one.images, "the next step draws other windows");
    const px = 3 * run.model.imageSize ** 2;
    const v = run.model.views;
    for (let i = 0; i < run.train.batch; i++) {
      const frames = one.frames[i]!;
      assert.equal(frames[1]! - frames[0]!, v - 1, `sample ${i}: inputs at the ends of a ${v}-frame window`);
      assert.deepEqual([...frames.slice(2)].sort((x, y) => x - y), Array.from({ length: v - 2 }, (_, j) => frames[0]! + 1 + j), "targets between");
      // every view's pixels are that frame of one of the clips
      const clip = clips.find((c) => frames.every((f, j) => f < c.frames.length && c.frames[f]!.image.every((x, q) => x === one.images[(i * v + j) * px + q])));
      assert.ok(clip, `sample ${i} comes from a clip`);
    }
    const out = join(dir, "on-footage");
    const r = await runCli(["--quiet", "train", "--preset", "tiny", "--steps", "3", "--data", footage, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as { dataDir: string }).dataDir, footage);
    assert.equal(readFileSync(join(out, METRICS_FILE), "utf8").trim().split("\n").length, 3);
    const missing = join(dir, "no-footage");
    const bad = await runCli(["--quiet", "train", "--preset", "tiny", "--steps", "1", "--data", missing, "--out", join(dir, "bad-data")]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--data .*no-footage: no such file or folder/);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.equal(existsSync(join(dir, "bad-data")), false, "nothing written");
  });

  it("--resume continues to the same loss curve as an uninterrupted run", async () => {
    const { spawn } = await import("node:child_process");
    const { repoRoot, runCli } = await import("../helpers/cli.ts");
    const set = ["--set", "train.steps=8", "train.ckptEvery=2", "train.logEvery=1"];
    const whole = join(dir, "cli-whole");
    const killed = join(dir, "cli-killed");
    const r = await runCli(["train", "--preset", "tiny", "--out", whole, ...set]);
    assert.equal(r.code, 0, r.stderr);
    // start the same run, SIGKILL it once a checkpoint exists and a later step has been logged
    const child = spawn(process.execPath, ["bin/wildrayzer.js", "train", "--preset", "tiny", "--out", killed, ...set], {
      cwd: repoRoot,
      env: { ...process.env, WRZ_THREADS: "1" },
      stdio: "ignore",
    });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_code, signal) => res(signal)));
    const logged = () => (existsSync(join(killed, METRICS_FILE)) ? readFileSync(join(killed, METRICS_FILE), "utf8").trim().split("\n").length : 0);
    const t0 = Date.now();
    while (logged() < 3 && Date.now() - t0 < 120_000) await new Promise((res) => setTimeout(res, 20));
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL", "the run was killed, not finished");
    const stoppedAt = readCheckpointMeta(join(killed, CHECKPOINT_FILE)).meta.step;
    assert.ok(stoppedAt >= 2 && stoppedAt < 8, `killed between checkpoints (checkpoint at step ${stoppedAt})`);
    const resumed = await runCli(["train", "--preset", "tiny", "--out", killed, "--resume", ...set]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resumed from step ${stoppedAt}`));
    const curve = (p: string) =>
      readFileSync(join(p, METRICS_FILE), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number; loss: number }).map((l) => [l.step, l.loss]);
    assert.deepEqual(curve(killed), curve(whole));
  });
});

describe("perceptual term", () => {
  it("train.perceptualWeight adds λ·perceptual to the MSE, and a tiny run with it trains", async () => {
    const { photometricLoss, mse } = await import("../../src/train/losses.ts");
    const { loadMobilenetV2 } = await import("../../src/features/mobilenetV2.ts");
    const { perceptualDistance } = await import("../../src/features/perceptual.ts");
    const { numpy: np } = await import("@jax-js/jax");
    const fx = await loadMobilenetV2();
    const host = trainBatch(run, 0);
    const [b, v, c, h, w] = host.shape;
    const x = () => np.array(host.images).reshape(host.shape).slice([], [0, 2]); // [b, 2, c, h, w]
    const y = () => np.array(host.images).reshape(host.shape).slice([], [2, 4]);
    const total = (await photometricLoss(x(), y(), 0.2, fx).data())[0]!;
    const m = (await mse(x(), y()).data())[0]!;
    const p = (await np.mean(perceptualDistance(fx, x().reshape([b * 2, c, h, w]), y().reshape([b * 2, c, h, w]))).data())[0]!;
    assert.ok(p > 0 && Math.abs(total - (m + 0.2 * p)) < 1e-6, `total ${total} vs ${m} + 0.2·${p}`);
    assert.equal(v, run.model.views);
    fx.dispose();
    const withP = resolveRunConfig("tiny", ["train.steps=3", "train.perceptualWeight=0.2"]);
    const losses: number[] = [];
    await trainStage1({ run: withP, outDir: join(dir, "perceptual"), onProgress: (q) => losses.push(q.loss) });
    assert.ok(losses.every(Number.isFinite) && losses.length === 3, `losses ${losses}`);
  });
});
