import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clipSamples, clipWindows, packImages, randomClipWindow, windowOrder } from "../../src/data/sampling.ts";
import { makeRng } from "../../src/engine/rng.ts";
import type { Scene } from "../../src/data/scene.ts";

/** An n-frame 2×3 scene whose frame f has every value equal to f (so packed values name their frames). */
function indexScene(name: string, n: number): Scene {
  return { name, h: 2, w: 3, frames: Array.from({ length: n }, (_, f) => ({ name: `${f}`, image: new Float32Array(18).fill(f) })) };
}

describe("clip → windows → sample orders → packed samples (src/data/sampling.ts)", () => {
  it("clip windows: inputs at the ends, targets between, consecutive windows share an end, the last moved back", () => {
    // 7 frames, 4 views: windows start at 0 and 3 (step views − 1), the second ends at frame 6
    assert.deepEqual(clipWindows(7, 4).map(windowOrder), [
      [0, 3, 1, 2],
      [3, 6, 4, 5],
    ]);
    // 8 frames: a third window, moved back from start 6 to 4 so it ends at frame 7
    assert.deepEqual(clipWindows(8, 4).map(windowOrder), [
      [0, 3, 1, 2],
      [3, 6, 4, 5],
      [4, 7, 5, 6],
    ]);
    assert.deepEqual(clipWindows(3, 3).map(windowOrder), [[0, 2, 1]], "exactly one window");
    assert.throws(() => clipWindows(3, 4), /3 frames, the model needs 4/);
  });

  it("clip samples: every window of every clip, in clip order, each with its clip", () => {
    const a = indexScene("a", 7);
    const b = indexScene("b", 5);
    const { scenes, orders } = clipSamples([a, b], 4);
    assert.deepEqual(scenes.map((s) => s.name), ["a", "a", "b", "b"]);
    assert.deepEqual(orders, [
      [0, 3, 1, 2],
      [3, 6, 4, 5],
      [0, 3, 1, 2],
      [1, 4, 2, 3], // 5 frames: the second window moved back to start 1
    ]);
  });

  it("packs a sample's images in its order", () => {
    const x = packImages(indexScene("a", 7), [3, 6, 4, 5]);
    assert.equal(x.length, 4 * 18);
    assert.deepEqual([0, 1, 2, 3].map((j) => [...new Set(x.subarray(j * 18, (j + 1) * 18))]), [[3], [6], [4], [5]]);
  });

  it("random clip windows: `views` consecutive frames, the ends as inputs, every start drawn, seeded", () => {
    const n = 9;
    const views = 4;
    const starts = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const win = randomClipWindow(makeRng(seed), n, views, 2);
      const order = windowOrder(win);
      const lo = Math.min(...order);
      starts.add(lo);
      assert.deepEqual([...order].sort((p, q) => p - q), [lo, lo + 1, lo + 2, lo + 3], `seed ${seed}: consecutive frames ${order}`);
      assert.deepEqual(win.inputs, [lo, lo + 3], `seed ${seed}: inputs at the window's ends`);
      assert.deepEqual(windowOrder(randomClipWindow(makeRng(seed), n, views, 2)), order, "a pure function of the seed");
    }
    assert.deepEqual([...starts].sort(), [0, 1, 2, 3, 4, 5], "every start 0…n − views is drawn");
    // one input: the canonical view is the window's first frame, the other end is among the targets
    const one = randomClipWindow(makeRng(1), n, views, 1);
    const lo = Math.min(...one.inputs, ...one.targets);
    assert.deepEqual([one.inputs, [...one.targets].sort()], [[lo], [lo + 1, lo + 2, lo + 3]]);
    assert.throws(() => randomClipWindow(makeRng(0), 3, 4, 2), /at least 4 frames/);
  });
});
