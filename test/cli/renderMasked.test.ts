/**
 * `render` with masked input tokens: a tiny WildRayZer saved as a stage-3 file renders, by default, exactly the
 * masked forward computed here by hand (the motion estimator's probabilities of the two inputs → token keep-mask →
 * the forward with it, for the re-renderings and the path), and differently with `--token-masks none`; the same
 * weights saved as a stage-2 file render unmasked by default (the stage rule).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";
import { dispose } from "../../src/engine/params.ts";
import { decodeSafetensors } from "../../src/engine/safetensors.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { readClip } from "../../src/data/readers/index.ts";
import { loadMobilenetV2 } from "../../src/features/mobilenetV2.ts";
import { tokenKeep } from "../../src/model/maskedTokens.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { makeForward } from "../../src/pipeline/forward.ts";
import { MASK_TAP } from "../../src/pipeline/maskTap.ts";
import { makeMotionPass, motionProbabilities } from "../../src/pipeline/motion.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { saveTinyWildrayzer, saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-render-masked-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const [stage3, stage2, stage1] = ["stage3.safetensors", "stage2.safetensors", "stage1.safetensors"].map((f) => join(dir, f)) as [string, string, string];
const scene = join(dir, "scene");

before(async () => {
  await engine();
  await saveTinyWildrayzer(stage3, 3);
  await saveTinyWildrayzer(stage2, 2);
  await saveUntrainedCheckpoint(stage1, RUN_PRESETS.tiny, 3, 1);
  await writeScene(scene, generateScene(5, { ...RUN_PRESETS.tiny.data, frames: 6, movers: [1, 2] }));
});

type Dump = Map<string, { shape: number[]; data: Float32Array }>;
async function render(ckpt: string, name: string, extra: string[] = []): Promise<{ dump: Dump; cams: { tokenMasks: { mode: string; stage: number; dropped: number } }; stdout: string }> {
  const out = join(dir, name);
  const dumpPath = join(dir, `${name}.safetensors`);
  const r = await runCli(["render", "--ckpt", ckpt, "--input", scene, "--out", out, "--frames", "3", "--dump", dumpPath, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return { dump: decodeSafetensors(readFileSync(dumpPath), dumpPath).tensors, cams: JSON.parse(readFileSync(join(out, "cameras.json"), "utf8")), stdout: r.stdout };
}

const maxDiff = (a: Float32Array, b: Float32Array) => {
  assert.equal(a.length, b.length, "lengths");
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
};

describe("render --token-masks", () => {
  it("a stage-3 file renders the masked forward by default, unmasked with --token-masks none; a stage-2 file unmasked by default", async () => {
    const masked = await render(stage3, "masked");
    const none = await render(stage3, "none", ["--token-masks", "none"]);
    const s2 = await render(stage2, "s2");

    // by hand: the clip as render reads it, the inputs first (frames 0 and 5 of 6, targets 2 and 3)
    const clip = await readClip(scene, { size: 32 });
    const { h, w } = clip;
    const img = 3 * h * w;
    const order = [0, 5, 2, 3];
    const x = new Float32Array(4 * img);
    order.forEach((f, j) => x.set(clip.frames[f]!.image, j * img));
    const shape: [number, number, number, number, number] = [1, 4, 3, h, w];
    const { params, meta } = loadModel(stage3);
    const model = meta.model;
    const fx = await loadMobilenetV2();
    const pass = makeMotionPass(model);
    const probs = await motionProbabilities(pass, params, model, fx, MASK_TAP, x, shape); // [4, h·w]
    pass.dispose();
    fx.dispose();
    const keep = tokenKeep(probs.subarray(0, 2 * h * w), 2, h, w, model.patch);
    const dropped = keep.reduce((a, k) => a + (1 - k), 0) / keep.length;
    assert.ok(dropped > 0.05 && dropped < 0.95, `some input tokens dropped, not all (${dropped})`);
    const fwd = makeForward(model);
    const est = await fwd.estimate(params, x, shape, { keep });
    const plain = await fwd.estimate(params, x, shape);
    // the path's first two cameras (render draws the path 2 targets at a time, with the inputs' estimated cameras)
    const path = { c2w: masked.dump.get("path.c2w")!.data, k: masked.dump.get("path.fxfycxcy")!.data };
    const c2w = Float32Array.from([...est.c2w.subarray(0, 32), ...path.c2w.subarray(0, 32)]);
    const k4 = Float32Array.from([...est.fxfycxcy.subarray(0, 8), ...Array.from(path.k.subarray(0, 8), (v) => v / w)]);
    const novel = await fwd.withCameras(params, x, shape, c2w, k4, { keep });
    fwd.dispose();
    dispose(params);

    assert.deepEqual([...masked.dump.get("tokens.keep")!.data], [...keep], "the keep-mask render used");
    assert.deepEqual(masked.dump.get("tokens.keep")!.shape, [2, (32 / RUN_PRESETS.tiny.model.patch) ** 2]);
    assert.equal(masked.cams.tokenMasks.mode, "motion");
    assert.ok(Math.abs(masked.cams.tokenMasks.dropped - dropped) < 1e-12, `dropped ${masked.cams.tokenMasks.dropped} vs ${dropped}`);
    assert.match(masked.stdout, /input tokens masked by the motion estimator \(the stage-3 default, \d+\.\d % of the input tokens replaced\)/);
    const rec = masked.dump.get("renders.reconstructions")!.data;
    // render runs on ONNX Runtime (the CPU default), the hand forward on jax-js
    assert.ok(maxDiff(rec, est.renders) <= 1e-4, `re-renderings vs the masked forward: ${maxDiff(rec, est.renders)}`);
    assert.ok(maxDiff(rec, plain.renders) > 1e-3, "masking changes the re-renderings");
    const nov = masked.dump.get("renders.novel")!.data.subarray(0, 2 * img);
    assert.ok(maxDiff(nov, novel) <= 1e-4, `novel views vs the masked forward: ${maxDiff(nov, novel)}`);

    assert.equal(none.dump.has("tokens.keep"), false);
    assert.equal(none.cams.tokenMasks.mode, "none");
    assert.ok(maxDiff(none.dump.get("renders.reconstructions")!.data, plain.renders) <= 1e-4, "--token-masks none renders the plain forward");
    assert.deepEqual(none.dump.get("cameras.c2w")!.data, masked.dump.get("cameras.c2w")!.data, "the cameras do not read the scene encoder");

    // the stage rule: the same weights as a stage-2 file are not masked
    assert.equal(s2.cams.tokenMasks.mode, "none");
    assert.equal(s2.dump.has("tokens.keep"), false);
    assert.deepEqual(s2.dump.get("renders.reconstructions")!.data, none.dump.get("renders.reconstructions")!.data);
    assert.deepEqual(s2.dump.get("renders.novel")!.data, none.dump.get("renders.novel")!.data);
    assert.match(s2.stdout, /input tokens not masked \(the stage-2 default\)/);
  });

  it("--token-masks motion on a model without a motion estimator exits 2 with one line", async () => {
    const r = await runCli(["render", "--ckpt", stage1, "--input", scene, "--out", join(dir, "bad"), "--token-masks", "motion"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /--token-masks motion: .*stage1\.safetensors has no motion estimator/);
  });
});
