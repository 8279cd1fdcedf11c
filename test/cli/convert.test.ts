/**
 * `wildrayzer convert` on the official fixtures (test/fixtures/official/, made by the official PyTorch code), and
 * `render --ckpt X.pt --dump`: the converted file loads with our loader to the official values (transposed
 * linears), its forward reproduces the official renders, and the raw dump matches the PNGs.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { engine, np } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";
import { OFFICIAL_DIR, assertClose, f32, readFixture } from "../helpers/officialFixtures.ts";
import { decodeSafetensors } from "../../src/engine/safetensors.ts";
import { dispose, namedLeaves } from "../../src/engine/params.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { runRayZer } from "../../src/model/rayzer.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-convert-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const TINY = JSON.stringify({ imageSize: 32, views: 4, inputViews: 2 });
const scene = join(dir, "scene");

before(async () => {
  await engine();
  await writeScene(scene, generateScene(5, { ...RUN_PRESETS.tiny.data, frames: 6 }));
});

describe("wildrayzer convert", () => {
  it("the fixture .pt → our model file: says what it is, loads with our loader to the official values (F32 exact, linears transposed)", async () => {
    const out = join(dir, "w32.safetensors");
    const r = await runCli(["convert", "--from", `${OFFICIAL_DIR}wildrayzer_tiny.pt`, "--out", out, "--dtype", "f32", "--official-config", TINY]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /official-wildrayzer-2view: d 64, 4 heads, 2\/2\/2 layers, 16 scene tokens, 32² at patch 8, 2 \+ 2 views/);
    assert.match(r.stdout, /wrote .*w32\.safetensors \(F32/);
    const official = decodeSafetensors(readFileSync(`${OFFICIAL_DIR}wildrayzer_tiny.safetensors`), "w").tensors;
    const { params, meta } = loadModel(out);
    assert.equal(meta.format, "wildrayzer-model-v1");
    assert.equal(meta.model.maskedTokens, "noiseToken");
    const leaves = new Map(namedLeaves(params).map(([n, x]) => [n, x]));
    const head = (await leaves.get("renderer.head.weight")!.ref.data()) as Float32Array; // ours [64, 192]
    const ref = official.get("image_token_decoder.1.weight")!; // official [192, 64]
    for (const [i, o] of [[0, 0], [3, 17], [63, 191]] as const) assert.equal(head[i * 192 + o], ref.data[o * 64 + i]);
    assert.deepEqual((await leaves.get("sceneEncoder.noiseToken")!.ref.data()) as Float32Array, official.get("noise_token")!.data);
    // the converted file's forward is the official one
    const io = readFixture("wildrayzer_tiny_io.safetensors");
    const img = f32(io, "images");
    const fwd = runRayZer(params, np.array(img.data).reshape(img.shape), meta.model);
    assertClose({ shape: [...fwd.renders.shape], data: (await fwd.renders.data()) as Float32Array }, f32(io, "out.render_target"), 1e-4, "renders of the converted file");
    assertClose({ shape: [...fwd.cameras.c2w.shape], data: (await fwd.cameras.c2w.data()) as Float32Array }, f32(io, "out.c2w"), 1e-5, "c2w of the converted file");
    dispose(fwd.cameras.fxfycxcy);
  });

  it("an official-layout safetensors (RayZer) converts too, F16 by default (values within F16 rounding); bad flags are one line", async () => {
    const out = join(dir, "r16.safetensors");
    const r = await runCli(["convert", "--from", `${OFFICIAL_DIR}rayzer_tiny.safetensors`, "--out", out, "--official-config", TINY]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /official-rayzer-dl3dv: .* 2 \+ 2 views/);
    const { params, meta } = loadModel(out);
    assert.equal(meta.model.canonicalView, "middle");
    assert.equal(meta.model.viewSplit, "gcd");
    const code = (await namedLeaves(params).find(([n]) => n === "sceneEncoder.sceneCode")![1].ref.data()) as Float32Array;
    const ref = decodeSafetensors(readFileSync(`${OFFICIAL_DIR}rayzer_tiny.safetensors`), "r").tensors.get("scene_code")!.data;
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(code[i]! - ref[i]!) <= Math.abs(ref[i]!) * 2 ** -11 + 2 ** -24, `scene_code[${i}]`);
    dispose(params);

    const bad = await runCli(["convert", "--from", join(dir, "absent.pt"), "--out", join(dir, "x.safetensors")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^wildrayzer: .*absent\.pt: .*\n$/);
    const cfg = await runCli(["convert", "--from", `${OFFICIAL_DIR}wildrayzer_tiny.pt`, "--out", join(dir, "x.safetensors"), "--official-config", '{"d": 3}']);
    assert.equal(cfg.code, 2);
    assert.equal(cfg.stderr, "wildrayzer: --official-config: d cannot be set (only imageSize, views, inputViews; the rest comes from the weights and the preset)\n");
  });

  it("render --ckpt X.pt --dump writes the raw cameras, intrinsics and renders beside the PNGs", async () => {
    const out = join(dir, "render");
    const dump = join(dir, "dump.safetensors");
    const r = await runCli(["render", "--ckpt", `${OFFICIAL_DIR}wildrayzer_tiny.pt`, "--official-config", TINY, "--input", scene, "--out", out, "--frames", "3", "--dump", dump]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /official-wildrayzer-2view/);
    const t = decodeSafetensors(readFileSync(dump), "dump");
    assert.deepEqual(t.tensors.get("cameras.c2w")!.shape, [4, 4, 4]);
    assert.deepEqual([...t.tensors.get("cameras.c2w")!.data.subarray(0, 16)], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], "the first input is canonical");
    const k = t.tensors.get("cameras.fxfycxcy")!.data;
    const kn = t.tensors.get("cameras.fxfycxcy_normalized")!.data;
    assert.ok(Math.abs(k[0]! - kn[0]! * 32) < 1e-4 && k[2] === 16 && kn[3] === 0.5, "intrinsics in pixels and normalised");
    const novel = t.tensors.get("renders.novel")!;
    assert.deepEqual(novel.shape, [3, 3, 32, 32]);
    assert.deepEqual(readdirSync(join(out, "novel")).length, 3);
    // the PNG is the dumped render, quantised
    const png = await sharp(join(out, "novel", "00001.png")).removeAlpha().raw().toBuffer();
    let worst = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(png[(y * 32 + x) * 3 + c]! / 255 - novel.data[3 * 1024 + c * 1024 + y * 32 + x]!));
    assert.ok(worst <= 0.5 / 255 + 1e-6, `PNG vs dump: ${worst}`);
    assert.deepEqual(t.tensors.get("renders.reconstructions")!.shape, [2, 3, 32, 32]);
  });
});
