import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "@jax-js/jax";
import { engine } from "../helpers/engine.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../../src/features/mobilenetV2.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { SYNTH_PRESETS, SynthConfigSchema, HELD_OUT_SEED_START } from "../../src/data/config.ts";
import { pseudoMasks } from "../../src/masks/pipeline.ts";
import { blockMean } from "../../src/masks/dissimilarity.ts";
import { DEGRADATION_LEVELS, degradeStatic } from "../../src/eval/pseudoMaskEval.ts";
import { patchFeatures } from "../../src/pipeline/pseudoLabels.ts";

before(engine);

describe("pseudo-mask pipeline on the stand-in renderer (the generator's clean static frames)", () => {
  it("puts its fused evidence on the moving patches and returns every stage at the right size", async () => {
    const fx = await loadMobilenetV2();
    const S = 64;
    const cfg = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: S, frames: 6, movers: [1, 2] });
    const scene = generateScene(HELD_OUT_SEED_START + 9000, cfg);
    const targets = scene.frames.map((f) => f.image);
    const renders = scene.frames.map((f) => f.static!);
    const feats = async (imgs: Float32Array[]) => {
      const x = new Float32Array(imgs.length * 3 * S * S);
      imgs.forEach((im, i) => x.set(im, i * 3 * S * S));
      return (await fx.extract(np.array(x).reshape([imgs.length, 3, S, S]), [MOBILENET_TAPS.patch8]).get(MOBILENET_TAPS.patch8)!.data()) as Float32Array;
    };
    const r = await pseudoMasks({ targets, renders, h: S, w: S, featTargets: await feats(targets), featRenders: await feats(renders), channels: 192, grid: 8 });
    fx.dispose();
    assert.equal(r.masks.length, 6);
    assert.ok(r.masks.every((m) => m.length === S * S), "full-size masks");
    assert.equal(r.stages.evidence.length, 6 * 64);
    // mean fused z-score on patches that are mostly moving vs mostly static
    let moving = 0;
    let nm = 0;
    let still = 0;
    let ns = 0;
    scene.frames.forEach((f, i) => {
      const frac = blockMean(f.mask!, S, S, 8);
      frac.forEach((v, p) => {
        const z = r.stages.evidence[i * 64 + p]!;
        if (v > 0.5) {
          moving += z;
          nm++;
        } else if (v === 0) {
          still += z;
          ns++;
        }
      });
    });
    assert.ok(nm > 0 && moving / nm > still / ns + 1, `evidence on moving patches ${(moving / nm).toFixed(2)} vs static ${(still / ns).toFixed(2)}`);
  });

  it("gives the same masks for the same input, whatever ran before (GrabCut's RNG is reseeded)", async () => {
    const fx = await loadMobilenetV2();
    const S = 64;
    const cfg = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: S, frames: 6, movers: [1, 2] });
    const make = async (seed: number) => {
      const scene = generateScene(HELD_OUT_SEED_START + seed, cfg);
      const targets = scene.frames.map((f) => f.image);
      const renders = scene.frames.map((f, j) => degradeStatic(f.static!, S, S, DEGRADATION_LEVELS[2], j));
      const tap = MOBILENET_TAPS.stride4;
      return { targets, renders, h: S, w: S, featTargets: await patchFeatures(fx, tap, targets, S, S), featRenders: await patchFeatures(fx, tap, renders, S, S), channels: 24, grid: 16 };
    };
    const a = await make(9001);
    const first = await pseudoMasks(a);
    await pseudoMasks(await make(9002)); // moves OpenCV's global RNG on
    const again = await pseudoMasks(a);
    fx.dispose();
    assert.ok(first.masks.some((m) => m.some((v) => v)), "something was found");
    first.masks.forEach((m, i) => assert.deepEqual(Array.from(again.masks[i]!), Array.from(m), `frame ${i}`));
  });
});
