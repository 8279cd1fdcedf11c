import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { random } from "@jax-js/jax";
import { engine } from "../helpers/engine.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { initRayZer } from "../../src/model/rayzer.ts";
import { dispose } from "../../src/engine/params.ts";
import { HELD_OUT_SEED_START, SynthConfigSchema } from "../../src/data/config.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../../src/features/mobilenetV2.ts";
import { evaluateModelPseudoMasks } from "../../src/eval/pseudoMaskEval.ts";
import { predictHeldOut } from "../../src/eval/evaluate.ts";
import { meanIou, patchFeatures } from "../../src/pipeline/pseudoLabels.ts";
import { pseudoMasks } from "../../src/masks/pipeline.ts";

before(engine);

describe("pseudo-masks with a trained renderer on held-out scenes", () => {
  it("scores every target of every sample, the same numbers as running the pieces by hand", async () => {
    const run = RUN_PRESETS.tiny;
    const params = initRayZer(random.key(11), run.model);
    const data = SynthConfigSchema.parse({ ...run.data, movers: [1, 2] });
    const fx = await loadMobilenetV2();
    const tap = { name: MOBILENET_TAPS.stride4, stride: 4 };
    const seeds = [HELD_OUT_SEED_START + 5, HELD_OUT_SEED_START + 6, HELD_OUT_SEED_START + 7];
    const variants = { ours: {}, noVote: { vote: false } };
    const r = await evaluateModelPseudoMasks(params, run.model, data, fx, tap, { seeds, variants, batch: 2 });
    const targets = run.model.views - run.model.inputViews;
    assert.equal(r.ours!.frames, seeds.length * targets);
    // by hand: one batch of all seeds (the renders do not depend on how the seeds are batched)
    const S = data.size;
    const g = S / tap.stride;
    let sum = 0;
    for (const p of await predictHeldOut(params, run.model, data, seeds)) {
      const t = p.order.slice(run.model.inputViews);
      const imgs = t.map((f) => p.scene.frames[f]!.image);
      const ft = await patchFeatures(fx, tap.name, imgs, S, S);
      const fr = await patchFeatures(fx, tap.name, p.renders, S, S);
      const out = await pseudoMasks({ targets: imgs, renders: p.renders, h: S, w: S, featTargets: ft, featRenders: fr, channels: ft.length / (imgs.length * g * g), grid: g });
      sum += meanIou(out.masks, t.map((f) => p.scene.frames[f]!.mask!)) * t.length;
    }
    fx.dispose();
    dispose(params);
    assert.ok(Math.abs(r.ours!.miou - sum / r.ours!.frames) < 1e-4, `ours ${r.ours!.miou} vs by hand ${sum / r.ours!.frames}`);
    assert.ok(r.ours!.miou >= 0 && r.ours!.miou <= 1 && r.noVote!.miou >= 0 && r.noVote!.miou <= 1, `mIoUs in [0, 1]: ${JSON.stringify(r)}`);
  });
});
