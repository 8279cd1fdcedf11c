import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeSynthDataset } from "../../src/data/dataset.ts";
import { HELD_OUT_SEED_START, SYNTH_PRESETS, type SynthConfig } from "../../src/data/config.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import type { Scene } from "../../src/data/scene.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { fakeScene } from "../helpers/fakeScene.ts";

const cfg = SYNTH_PRESETS.tiny;

/** A fake generator that records its calls. */
function recorder(): { calls: number[]; generate: (seed: number, c: SynthConfig) => Scene } {
  const calls: number[] = [];
  return { calls, generate: (seed, c) => (calls.push(seed), fakeScene({ h: c.size, w: c.size, frames: 2, seed })) };
}

describe("makeSynthDataset", () => {
  it("train scene i has seed seedStart + i; held-out scene i has HELD_OUT_SEED_START + i", () => {
    const train = makeSynthDataset({ cfg, split: "train", seedStart: 100, generate: recorder().generate });
    assert.deepEqual([0, 1, 5].map((i) => train.seed(i)), [100, 101, 105]);
    assert.equal(makeSynthDataset({ cfg, split: "train" }).seed(3), 3);
    const held = makeSynthDataset({ cfg, split: "heldout" });
    assert.deepEqual([0, 2].map((i) => held.seed(i)), [HELD_OUT_SEED_START, HELD_OUT_SEED_START + 2]);
  });

  it("train seeds never reach the held-out range; held-out ones never start below it", () => {
    const train = makeSynthDataset({ cfg, split: "train", seedStart: HELD_OUT_SEED_START - 2 });
    assert.equal(train.seed(1), HELD_OUT_SEED_START - 1);
    assert.throws(() => train.seed(2), (e: unknown) => e instanceof WildrayzerError && /would reach the held-out seeds/.test(e.message));
    assert.throws(() => makeSynthDataset({ cfg, split: "train", seedStart: HELD_OUT_SEED_START }), WildrayzerError);
    assert.throws(() => makeSynthDataset({ cfg, split: "heldout", seedStart: 5 }), WildrayzerError);
    assert.throws(() => makeSynthDataset({ cfg, split: "train", seedStart: -1 }), WildrayzerError);
  });

  it("generates each scene from its seed and config, and caches the most recent ones", () => {
    const rec = recorder();
    const ds = makeSynthDataset({ cfg, split: "train", seedStart: 10, cacheSize: 2, generate: rec.generate });
    const a = ds.scene(0);
    assert.equal(a.name, "fake_10");
    assert.equal(a.h, cfg.size);
    assert.equal(ds.scene(0), a, "cached: the same object");
    ds.scene(1);
    ds.scene(0); // 0 is now the most recent, so 2 evicts 1
    ds.scene(2);
    ds.scene(0);
    ds.scene(1);
    assert.deepEqual(rec.calls, [10, 11, 12, 11]);
  });

  it("uses the synthetic generator by default: scene i is generateScene(seed(i), cfg)", () => {
    const small = { ...cfg, size: 32 as const, frames: 2, samplesPerPixel: 1 };
    const ds = makeSynthDataset({ cfg: small, split: "heldout" });
    const direct = generateScene(HELD_OUT_SEED_START + 1, small);
    const scene = ds.scene(1);
    assert.deepEqual([scene.h, scene.w, scene.frames.length], [32, 32, 2]);
    assert.deepEqual(scene.frames[1]!.image, direct.frames[1]!.image);
  });

  it("with cacheSize 0 generates every time", () => {
    const rec = recorder();
    const ds = makeSynthDataset({ cfg, split: "heldout", cacheSize: 0, generate: rec.generate });
    ds.scene(0);
    ds.scene(0);
    assert.deepEqual(rec.calls, [HELD_OUT_SEED_START, HELD_OUT_SEED_START]);
  });
});
