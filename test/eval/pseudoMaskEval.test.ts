import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { engine } from "../helpers/engine.ts";
import { degradeStatic, evaluatePseudoMasks, DEGRADATION_LEVELS } from "../../src/eval/pseudoMaskEval.ts";
import { DEFAULT_PSEUDO, OFFICIAL_PSEUDO } from "../../src/masks/pipeline.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../../src/features/mobilenetV2.ts";
import { SYNTH_PRESETS, SynthConfigSchema } from "../../src/data/config.ts";
import { psnrHost } from "../../src/eval/metrics.ts";
import { makeRng } from "../../src/engine/rng.ts";

before(engine);

describe("stand-in renderer and pseudo-mask measurement", () => {
  it("degrades a static image more at each level, deterministically, and not at all at level none", () => {
    const rng = makeRng(2);
    const h = 32;
    const w = 32;
    const img = Float32Array.from({ length: 3 * h * w }, (_, i) => 0.5 + 0.3 * Math.sin(i / 7) + 0.05 * rng.next());
    assert.deepEqual(Array.from(degradeStatic(img, h, w, DEGRADATION_LEVELS[0], 1)), Array.from(img), "none is the identity");
    const psnrs = DEGRADATION_LEVELS.slice(1).map((d) => psnrHost(degradeStatic(img, h, w, d, 1), img));
    for (let i = 1; i < psnrs.length; i++) assert.ok(psnrs[i]! < psnrs[i - 1]!, `PSNR falls with strength: ${psnrs.map((p) => p.toFixed(1))}`);
    assert.deepEqual(Array.from(degradeStatic(img, h, w, DEGRADATION_LEVELS[2], 7)), Array.from(degradeStatic(img, h, w, DEGRADATION_LEVELS[2], 7)), "same seed, same image");
  });

  it("a raw-residual mask is worse against a strongly degraded stand-in than a perfect one", async () => {
    const fx = await loadMobilenetV2();
    const data = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: 64, frames: 6, movers: [1, 2] });
    const tap = { name: MOBILENET_TAPS.stride4, stride: 4 };
    const options = { evidence: "mse" as const, vote: false };
    const perfect = (await evaluatePseudoMasks(fx, tap, data, { scenes: 2, level: DEGRADATION_LEVELS[0], variants: { raw: options } })).raw!;
    const strong = (await evaluatePseudoMasks(fx, tap, data, { scenes: 2, level: DEGRADATION_LEVELS[3], variants: { raw: options } })).raw!;
    fx.dispose();
    assert.equal(perfect.frames, 12);
    assert.ok(perfect.miou > 0.4 && strong.miou < perfect.miou, `mIoU perfect ${perfect.miou.toFixed(3)} vs strong ${strong.miou.toFixed(3)}`);
  });

  it("each stage of our pipeline earns its place at moderate degradation (4 held-out scenes)", async () => {
    const fx = await loadMobilenetV2();
    const data = SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: 64, frames: 6, movers: [1, 2] });
    const tap = { name: MOBILENET_TAPS.stride4, stride: 4 };
    const r = await evaluatePseudoMasks(fx, tap, data, {
      scenes: 4,
      level: DEGRADATION_LEVELS[2],
      offset: 9000,
      variants: {
        ours: {},
        official: OFFICIAL_PSEUDO,
        noVote: { vote: false },
        noGrabcut: { refine: { ...DEFAULT_PSEUDO.refine, grabcut: false } },
        rawResidual: { evidence: "mse", vote: false, mseBlur: 0 },
      },
    });
    fx.dispose();
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.miou]));
    const msg = JSON.stringify(m, (_, v: unknown) => (typeof v === "number" ? Number(v.toFixed(3)) : v));
    assert.equal(r.ours!.frames, 24);
    assert.ok(m.ours! >= 0.65, `ours ${msg}`);
    assert.ok(m.ours! > m.official! + 0.3, `beats the official settings at 64²: ${msg}`);
    assert.ok(m.ours! > m.noVote! + 0.05, `the vote helps: ${msg}`);
    assert.ok(m.ours! > m.noGrabcut! + 0.1, `GrabCut helps: ${msg}`);
    assert.ok(m.ours! > m.rawResidual! + 0.05, `fusion beats the raw residual: ${msg}`);
  });
});
