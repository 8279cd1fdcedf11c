import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRunConfig } from "../../src/train/config.ts";
import { configDifferences, resumeProblem } from "../../src/train/loop.ts";
import { runCli } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-resume-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("resuming a run", () => {
  it("configDifferences names every differing leaf by its dotted path", () => {
    assert.deepEqual(configDifferences({ a: 1, b: { c: 2, d: [1, 2] } }, { a: 1, b: { c: 3, d: [1, 2] } }), ["b.c"]);
    assert.deepEqual(configDifferences({ a: 1, b: { d: [1, 2] } }, { a: 2, b: { d: [1, 3] }, e: 0 }), ["a", "b.d", "e"]);
    assert.deepEqual(configDifferences({ a: { b: 1 } }, { a: { b: 1 } }), []);
  });

  it("resumeProblem: only train.steps may change, and not below the checkpoint's step; the message names the key and both values", () => {
    const run = resolveRunConfig("tiny", ["train.steps=4"]);
    assert.equal(resumeProblem(run, run, 4), undefined);
    assert.equal(resumeProblem(run, resolveRunConfig("tiny", ["train.steps=10"]), 4), undefined, "a larger --steps extends");
    const lr = resumeProblem(run, resolveRunConfig("tiny", ["train.steps=4", `train.lr=${run.train.lr * 2}`]), 4);
    assert.ok(lr?.includes(`train.lr ${run.train.lr} → ${run.train.lr * 2}`), lr);
    assert.match(lr!, /only --steps may change on --resume/);
    assert.match(resumeProblem(resolveRunConfig("tiny", ["train.steps=8"]), resolveRunConfig("tiny", ["train.steps=3"]), 6)!, /is at step 6, past --steps 3; pass --steps above 6/);
  });

  it("CLI: resuming a finished run says so (no NaN); a larger --steps extends it and states the schedule rule", async () => {
    const out = join(dir, "run");
    const set = ["--set", "train.ckptEvery=1", "train.logEvery=1", "train.evalEvery=0"];
    const first = await runCli(["train", "--preset", "tiny", "--steps", "1", "--out", out, ...set]);
    assert.equal(first.code, 0, first.stderr);
    const again = await runCli(["train", "--preset", "tiny", "--steps", "1", "--out", out, "--resume", ...set]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout + again.stderr, /NaN/);
    assert.match(again.stdout + again.stderr, /nothing to train: the run is already at step 1 of 1/);
    assert.match(again.stdout, /resume with --steps above 1/);
    const longer = await runCli(["train", "--preset", "tiny", "--steps", "2", "--out", out, "--resume", ...set]);
    assert.equal(longer.code, 0, longer.stderr);
    assert.match(longer.stdout, /extending the run from 1 to 2 steps: the learning-rate schedule is recomputed for the new total/);
    assert.match(longer.stdout, /resumed from step 1/);
    assert.match(longer.stdout, /checkpoint: .* \(step 2/);
  });
});
