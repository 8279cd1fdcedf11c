import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { numpy as np } from "@jax-js/jax";
import { engine } from "../helpers/engine.ts";
import { saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";
import { dispose, namedLeaves } from "../../src/engine/params.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { fillTree, subtrees } from "../../src/model/load.ts";
import { loadModel, readModelFile } from "../../src/model/loadFile.ts";
import { resolveRunConfig } from "../../src/train/config.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-load-"));
after(() => rmSync(dir, { recursive: true, force: true }));
before(engine);

describe("model loading", () => {
  it("loads a checkpoint's params, model and data config, and stage", async () => {
    const run = resolveRunConfig("tiny");
    const path = join(dir, "ckpt.safetensors");
    await saveUntrainedCheckpoint(path, run, 3, 7);
    const { meta } = readModelFile(path);
    assert.equal(meta.step, 7);
    assert.equal(meta.stage, 1);
    assert.deepEqual(meta.model, run.model);
    assert.deepEqual(meta.data, run.data);
    const { params, initialised } = loadModel(path);
    assert.deepEqual(initialised, []);
    const leaves = namedLeaves(params);
    assert.ok(leaves.length > 10, "a whole tree");
    dispose(params);
  });

  it("fills a larger tree only with extend, listing the fresh subtree; an unexpected tensor is an error naming it", async () => {
    const file = (names: Record<string, number[]>) => {
      return { tensors: new Map(Object.entries(names).map(([n, v]) => [`params.${n}`, { shape: [v.length], data: Float32Array.from(v) }])), metadata: {} };
    };
    const f = file({ "a.w": [1, 2], "b.w": [3] });
    const like = () => ({ a: { w: np.zeros([2]) }, b: { w: np.zeros([1]) }, motion: { head: { w: np.full([3], 9) } } });
    assert.throws(() => fillTree(like(), f, "x.safetensors", "params."), (e: unknown) => e instanceof WildrayzerError && /missing 1: motion\.head\.w/.test(e.message));
    const { tree, initialised } = fillTree(like(), f, "x.safetensors", "params.", true);
    assert.deepEqual(initialised, ["motion.head.w"]);
    assert.deepEqual(subtrees(initialised), ["motion"]);
    assert.deepEqual([...(await tree.a.w.data())], [1, 2]);
    assert.deepEqual([...(await tree.b.w.data())], [3]);
    assert.deepEqual([...(await tree.motion.head.w.data())], [9, 9, 9]);
    const extra = file({ "a.w": [1, 2], "b.w": [3], "c.z": [0] });
    assert.throws(() => fillTree(like(), extra, "y.safetensors", "params.", true), (e: unknown) => e instanceof WildrayzerError && /y\.safetensors: tensors the model does not have: c\.z/.test(e.message));
    const wrong = file({ "a.w": [1, 2, 3], "b.w": [3] });
    assert.throws(() => fillTree(like(), wrong, "z.safetensors", "params.", true), (e: unknown) => e instanceof WildrayzerError && /params\.a\.w has shape \[3\]/.test(e.message));
  });
});
