import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScene } from "../../src/data/sceneIo.ts";
import { runCli } from "../helpers/cli.ts";
import { engine } from "../helpers/engine.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { exportModel } from "../../src/train/checkpoint.ts";
import { saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";
import { MOTION_PRESETS } from "../../src/model/motionConfig.ts";
import { MASK_TAP_CHANNELS } from "../../src/pipeline/pseudoLabels.ts";

const root = mkdtempSync(join(tmpdir(), "wrz-demo-"));
after(() => rmSync(root, { recursive: true, force: true }));
/** An untrained tiny model, so the demo's model section is tested without depending on the shipped file. */
const model = join(root, "tiny.safetensors");
/** An untrained tiny model with a motion estimator, stored as stage 3: the comparison's WildRayZer. */
const wild = join(root, "tiny-wild.safetensors");
before(async () => {
  await engine();
  await saveUntrainedCheckpoint(join(root, "ckpt.safetensors"), RUN_PRESETS.tiny, 1, 3);
  await exportModel(join(root, "ckpt.safetensors"), model);
  const motion = { ...MOTION_PRESETS.tiny, featureChannels: MASK_TAP_CHANNELS, tokenWidth: RUN_PRESETS.tiny.model.d, patch: RUN_PRESETS.tiny.model.patch };
  await saveUntrainedCheckpoint(join(root, "wild.safetensors"), { ...RUN_PRESETS.tiny, model: { ...RUN_PRESETS.tiny.model, motion } }, 2, 4, 3);
  await exportModel(join(root, "wild.safetensors"), wild);
});

describe("wildrayzer demo", () => {
  it("passes the engine check, writes three scenes and a report whose images all exist", async () => {
    const out = join(root, "full");
    const r = await runCli(["demo", "--out", out, "--ckpt", model, "--eval-scenes", "4", "--wildrayzer", wild, "--rayzer", model]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /camera estimator/);
    assert.match(r.stdout, /^engine check: ok \(jit matmul \d+ ms, block gradient [\d.]+ m?s; total/m);
    assert.match(r.stdout, new RegExp(`^report: ${join(out, "report.html")}\\n$`, "m"));
    // stderr is a pipe here: no bars, only one summary line per stage.
    assert.match(r.stderr, /^engine check: 2\/2 checks passed \([\d.]+ m?s\)\ndemo scenes: 3 scenes written to [^\n]+ \([\d.]+ m?s\)\nmodel eval: 4\/4 \([\d.]+ m?s\)\ndynamic scenes: 2\/2 \([\d.]+ m?s\)\n$/);
    // the comparison: both arms on the same 4 held-out dynamic scenes, the WildRayZer (stage 3) with its estimator's masks
    assert.match(r.stdout, /^dynamic scenes \(4 held out, 1-2 movers\), static-pixel PSNR: nearest input [\d.]+, mean of inputs [\d.]+$/m);
    assert.match(r.stdout, /^ {2}RayZer \(tiny\.safetensors\): [\d.]+ dB static px, [\d.]+ dB vs clean frames$/m);
    assert.match(r.stdout, /^ {2}WildRayZer \(tiny-wild\.safetensors, stage 3\): [\d.]+ dB static px, [\d.]+ dB vs clean frames, \d+ % of input tokens replaced$/m);
    assert.match(r.stdout, /^model: .*tiny\.safetensors \(step 3\) on 4 held-out scenes: PSNR [\d.]+ dB vs nearest input [\d.]+, mean of inputs [\d.]+; rotation error/m);
    const masks = /^pseudo-masks \(stand-in renderer, moderate degradation\): mIoU scene_00000 ([\d.]+), scene_00001 ([\d.]+), scene_00002 ([\d.]+) /m.exec(r.stdout);
    assert.ok(masks, `pseudo-mask line: ${r.stdout}`);
    // the stand-in is the true static view, mildly blurred: the masks must find the movers (RESULTS.md: 0.77 on 50 held-out scenes)
    assert.ok(masks.slice(1).every((v) => Number(v) > 0.5), `mIoU per demo scene ${masks.slice(1).join(", ")}`);

    for (const i of [0, 1, 2]) {
      const { scene, meta } = await readScene(join(out, "scenes", `scene_0000${i}`));
      assert.deepEqual([scene.h, scene.w, scene.frames.length], [64, 64, 8]);
      assert.equal(meta.generator?.config.path, ["walk", "orbit", "pan"][i]);
    }
    const html = readFileSync(join(out, "report.html"), "utf8");
    const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]!);
    // model section: 3 held-out samples × (2 inputs + 2 targets × (truth, render, error)) for tiny (4 views);
    // pseudo-masks: 13 stage rows (true mask included) × 8 frames of the first scene
    // comparison: 3 scenes × (2 inputs + 2 replaced-token inputs + 2 targets × (observed, clean, 2 renders, estimator, truth))
    assert.equal(srcs.length, 3 * 8 * 4 + 3 * (2 + 2 * 3) + 3 * (2 + 2 + 2 * 6) + 13 * 8, "data scenes, the model's held-out samples, the comparison, the pseudo-mask stages");
    assert.match(html, /WildRayZer vs RayZer on unseen dynamic scenes/);
    // the page opens with a verdict that repeats the console's numbers, then says what follows, in order
    const verdict = /<h1>[^<]*<\/h1>\n<p class="verdict">([^<]+)<\/p>/.exec(html)?.[1] ?? "";
    const psnr = /^model: .* PSNR ([\d.]+) dB vs nearest input ([\d.]+), mean of inputs ([\d.]+);/m.exec(r.stdout)!;
    assert.ok(verdict.startsWith("engine check ok; tiny.safetensors on 4 unseen static scenes: "), verdict);
    assert.ok(verdict.includes(`PSNR ${psnr[1]} dB (copy the nearest input ${psnr[2]}, mean of the inputs ${psnr[3]})`), verdict);
    assert.match(verdict, /on 4 unseen dynamic scenes, static-pixel PSNR: RayZer [\d.]+ dB, WildRayZer [\d.]+ dB \(mean of the inputs [\d.]+\)/);
    assert.ok(verdict.includes(`mIoU ${masks.slice(1).join(" / ")}`), verdict);
    assert.match(verdict, /; [\d.]+ (ms|s|min [\d]+ s)\.$/);
    const at = (re: RegExp) => html.search(re);
    assert.ok(at(/<h2>Trained model/) < at(/<h2>WildRayZer vs RayZer/) && at(/<h2>WildRayZer vs RayZer/) < at(/<h2>Pseudo-motion masks/) && at(/<h2>Pseudo-motion masks/) < at(/<h2>scene_00000<\/h2>/), "sections in the order the intro gives");
    // scenes are named after their folders everywhere; the stand-in renderer is not called the model
    assert.match(html, /<h2>Every stage, scene_00000<\/h2>/);
    assert.doesNotMatch(html, /synth_\d/);
    assert.match(html, /the stand-in: the true static view, moderately degraded/);
    assert.doesNotMatch(html, /the model, from the window&#39;s two inputs|the model, from the window's two inputs/);
    assert.match(html, /Pseudo-motion masks \(stand-in renderer\)/);
    assert.match(html, /copy the nearest input/);
    // the blend ceilings: the best mix per target can never be below the cross-fade at the true frame time
    const oracle = (label: string) => Number(new RegExp(`${label} \\(oracle\\)</th><td>([\\d.]+)<`).exec(html)?.[1]);
    const [fade, mix] = [oracle("inputs cross-faded at the true frame time"), oracle("best mix of the inputs per target")];
    assert.ok(Number.isFinite(fade) && mix >= fade, `cross-fade ${fade}, best mix ${mix}`);
    for (const src of srcs) assert.ok(existsSync(join(out, src)), `${src} exists`);
    assert.equal((html.match(/<svg /g) ?? []).length, 3 + 1 + 3, "a camera path per scene, the training curve, a path per model sample");
  });

  it("--quiet prints only the results", async () => {
    const out = join(root, "quiet");
    const r = await runCli(["--quiet", "demo", "--out", out, "--model", model, "--eval-scenes", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^engine check: ok [^\\n]*\\nmodel: [^\\n]*\\npseudo-masks [^\\n]*\\nreport: ${join(out, "report.html")}\\n$`));
    assert.equal(r.stderr, "");
  });
});
