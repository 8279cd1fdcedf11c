/**
 * The viewer's session (src/web/analysis.ts, run here in Node) renders a stage-3 model from masked input tokens:
 * the clip estimate, every window's static rendering and the novel-view path use the keep-masks the motion
 * estimator gives (computed here by hand); the same weights as a stage-2 model render unmasked.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../helpers/engine.ts";
import { saveTinyWildrayzer } from "../helpers/checkpoint.ts";
import { dispose } from "../../src/engine/params.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { loadMobilenetV2 } from "../../src/features/mobilenetV2.ts";
import type { FeatureExtractor } from "../../src/features/mobilenetV2.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { makeForward } from "../../src/pipeline/forward.ts";
import { droppedFraction, makeInputMasker } from "../../src/pipeline/maskedInputs.ts";
import { maskWindows } from "../../src/pipeline/windows.ts";
import { orbitPath } from "../../src/pipeline/novelViews.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { makeSession } from "../../src/web/analysis.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-session-masked-"));
const file = join(dir, "s3.safetensors");
let fx: FeatureExtractor;
before(async () => {
  await engine();
  await saveTinyWildrayzer(file, 3);
  fx = await loadMobilenetV2();
});
after(() => {
  fx.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe("the viewer's session with a stage-3 model", () => {
  it("estimate, window renders and the path use the motion estimator's keep-masks; stage 2 renders unmasked", async () => {
    const { params, meta } = loadModel(file);
    const model = meta.model;
    const scene = generateScene(5, { ...RUN_PRESETS.tiny.data, frames: 6, movers: [1, 2] });
    const s3 = makeSession(params, model, () => Promise.resolve(fx), { stage: 3 });
    const s2 = makeSession(params, model, () => Promise.resolve(fx), { stage: 2 });
    const a3 = await s3.analyse(scene);
    const a2 = await s2.analyse(scene);
    const path = orbitPath(a3.estimate.estimated[0]!, a3.estimate.estimated[1]!, 2);
    const p3 = await s3.renderPath(a3.estimate, path);
    const p2 = await s2.renderPath(a2.estimate, path);
    s3.dispose();
    s2.dispose();

    // by hand
    const masker = makeInputMasker(params, model, fx);
    const fwd = makeForward(model);
    const { h, w } = scene;
    const img = 3 * h * w;
    const shape: [number, number, number, number, number] = [1, model.views, 3, h, w];
    const keep = await masker.keep(a3.estimate.x, shape);
    assert.deepEqual([...a3.estimate.keep!], [...keep], "the estimate's keep-mask");
    assert.equal(a3.tokenMasks!.estimate, droppedFraction(keep));
    assert.ok(droppedFraction(keep) > 0 && droppedFraction(keep) < 1, `some tokens dropped (${droppedFraction(keep)})`);
    const est = await fwd.estimate(params, a3.estimate.x, shape, { keep });
    a3.estimate.reconstructions.forEach(([, r], j) => assert.ok(maxDiff(r, est.renders.subarray(j * img, (j + 1) * img)) <= 1e-6, `re-rendering ${j}`));
    const drops: number[] = [];
    for (const win of maskWindows(scene.frames.length, model.views)) {
      const x = new Float32Array(model.views * img);
      [...win.inputs, ...win.targets].forEach((f, j) => x.set(scene.frames[f]!.image, j * img));
      const k = await masker.keep(x, shape);
      drops.push(droppedFraction(k));
      const { renders } = await fwd.estimate(params, x, shape, { keep: k });
      win.targets.forEach((f, j) => {
        // a frame keeps the rendering of the first window it is a target of
        if (maskWindows(scene.frames.length, model.views).find((wd) => wd.targets.includes(f)) !== win) return;
        assert.ok(maxDiff(a3.renders[f]!, renders.subarray(j * img, (j + 1) * img)) <= 1e-6, `frame ${f}'s window rendering`);
      });
    }
    assert.ok(Math.abs(a3.tokenMasks!.windows - drops.reduce((s, x) => s + x, 0) / drops.length) < 1e-12, "the windows' mean fraction");
    const cams = [...a3.estimate.estimated.slice(0, 2), ...path];
    const c2w = Float32Array.from(cams.flatMap((c) => c.c2w));
    const k4 = Float32Array.from(cams.flatMap((c) => [c.fxfycxcy[0] / w, c.fxfycxcy[1] / h, c.fxfycxcy[2] / w, c.fxfycxcy[3] / h]));
    const want = await fwd.withCameras(params, a3.estimate.x, shape, c2w, k4, { keep });
    const plain = await fwd.withCameras(params, a3.estimate.x, shape, c2w, k4);
    p3.forEach((r, j) => assert.ok(maxDiff(r, want.subarray(j * img, (j + 1) * img)) <= 1e-6, `path view ${j} masked`));
    p2.forEach((r, j) => assert.ok(maxDiff(r, plain.subarray(j * img, (j + 1) * img)) <= 1e-6, `stage 2: path view ${j} unmasked`));
    assert.ok(maxDiff(p3[0]!, p2[0]!) > 1e-3, "masking changes the path");
    assert.equal(a2.tokenMasks, undefined);
    assert.equal(a2.estimate.keep, undefined);
    assert.deepEqual(a2.motion!.masks, a3.motion!.masks, "the motion masks do not depend on the renderer's tokens");
    masker.dispose();
    fwd.dispose();
    dispose(params);
  });
});
