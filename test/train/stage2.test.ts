import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../helpers/engine.ts";
import { saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";
import { runCli } from "../helpers/cli.ts";
import { resolveRunConfig, resolveStage2Run } from "../../src/train/config.ts";
import { trainStage2, CHECKPOINT_FILE } from "../../src/train/loop.ts";
import { readCheckpointMeta } from "../../src/train/checkpoint.ts";
import { loadModel, readModelFile } from "../../src/model/loadFile.ts";
import { MASK_TAP_CHANNELS } from "../../src/pipeline/pseudoLabels.ts";
import { namedLeaves } from "../../src/engine/params.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-stage2-"));
after(() => rmSync(dir, { recursive: true, force: true }));
before(engine);

const stage1 = join(dir, "stage1.safetensors");
const tensors = (path: string) => new Map([...readCheckpointMeta(path).file.tensors].filter(([n]) => n.startsWith("params.")).map(([n, t]) => [n, t.data]));
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

function run(labels: "pseudo" | "oracle", steps = 4, pool = 0) {
  const { meta } = readModelFile(stage1);
  // psnrFilter 0: an untrained renderer's PSNR is below the official 17 dB, which would keep no target
  return resolveStage2Run(stage1, meta.model, meta.data, { labels, features: true, featureChannels: MASK_TAP_CHANNELS, overrides: [`train.steps=${steps}`, "train.ckptEvery=2", "motion.psnrFilter=0", `motion.pool=${pool}`] });
}

describe("stage 2: motion-estimator distillation", () => {
  before(async () => saveUntrainedCheckpoint(stage1, resolveRunConfig("tiny"), 5, 3));

  it("trains the motion estimator only: every RayZer tensor bitwise unchanged, every motion tensor moved; stage 2 stored", async () => {
    const out = join(dir, "frozen");
    const banners: string[] = [];
    const losses: number[] = [];
    await trainStage2({ run: run("pseudo"), outDir: out, onBanner: (b) => banners.push(b), onProgress: (p) => losses.push(p.loss) });
    assert.match(banners[0]!, /^stage 2: motion-estimator distillation; RayZer frozen/);
    assert.ok(losses.every((l) => Number.isFinite(l) && l > 0), `finite positive BCE every step: ${losses}`);
    const before1 = tensors(stage1);
    const after2 = tensors(join(out, CHECKPOINT_FILE));
    let frozen = 0;
    for (const [name, v] of after2) {
      if (name.startsWith("params.motion.")) continue;
      assert.ok(same(v, before1.get(name)!), `${name} changed in stage 2`);
      frozen++;
    }
    assert.equal(frozen, before1.size, "every stage-1 tensor is in the stage-2 checkpoint");
    // the motion estimator as stage 2 initialised it (seeded by the run): every tensor moved in 4 updates
    const init = loadModel(stage1, { config: run("pseudo").model, extend: true, seed: run("pseudo").train.seed });
    assert.ok(init.initialised.length > 10 && init.initialised.every((n) => n.startsWith("motion.")), `fresh subtree is the motion estimator: ${init.initialised.slice(0, 3)}`);
    let moved = 0;
    for (const [name, leaf] of namedLeaves(init.params)) {
      const v = (await leaf.data()) as Float32Array;
      if (name.startsWith("motion.") && !same(after2.get(`params.${name}`)!, v)) moved++;
    }
    assert.equal(moved, init.initialised.length, `${moved} of ${init.initialised.length} motion tensors moved`);
    const { meta } = readCheckpointMeta(join(out, CHECKPOINT_FILE));
    assert.equal(meta.stage, 2);
    assert.match(meta.banner ?? "", /stage 2/);
  });

  it("resumes exactly: 2 steps, stop, resume 2 more = 4 steps in one go (oracle labels, a pool of 3 samples reused)", async () => {
    const whole = join(dir, "whole");
    const broken = join(dir, "broken");
    await trainStage2({ run: run("oracle", 4, 3), outDir: whole });
    await trainStage2({ run: run("oracle", 4, 3), outDir: broken, stopAfter: 2 });
    const r = await trainStage2({ run: run("oracle", 4, 3), outDir: broken, resume: true });
    assert.equal(r.resumedFrom, 2);
    const a = tensors(join(whole, CHECKPOINT_FILE));
    const b = tensors(join(broken, CHECKPOINT_FILE));
    for (const [name, v] of a) assert.ok(same(v, b.get(name)!), `${name} differs after resume`);
    const logged = readFileSync(join(broken, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number });
    assert.deepEqual(logged.map((l) => l.step), [1, 2, 3, 4]);
  });

  it("bad stage-2 invocations are one line, exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["train", "--stage", "2", "--out", join(dir, "x")], /say which stage-1 model to freeze with --from/],
      [["train", "--stage", "2", "--from", join(dir, "nope.safetensors"), "--out", join(dir, "x")], /nope\.safetensors: file not found/],
      [["train", "--stage", "2", "--from", join(dir, "frozen", CHECKPOINT_FILE), "--out", join(dir, "x")], /already has a motion estimator/],
      [["train", "--stage", "2", "--from", stage1, "--pose-warmup", "10", "--out", join(dir, "x")], /--pose-warmup: a stage-1 option/],
      [["train", "--from", stage1, "--preset", "tiny", "--out", join(dir, "x")], /--from: a stage-2 and stage-3 option/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
      assert.ok(!existsSync(join(dir, "x")), `${args.join(" ")}: nothing written`);
    }
  });
});
