/**
 * Parity with the official PyTorch code: the fixtures in test/fixtures/official/ were made by the official
 * WildRayZer and RayZer code (fp32, CPU, tiny config, random weights; manifest.md). Each stage is run on the
 * official inputs of that stage, so a mismatch names the stage; then the whole forward runs from the images.
 * Tolerances: 1e-5 for cameras and early tokens, 1e-4 for renders (the bounds).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type Array as JArray } from "@jax-js/jax";
import { engine, np } from "../helpers/engine.ts";
import { OFFICIAL_DIR, assertClose, f32, readFixture, type FixtureTensor } from "../helpers/officialFixtures.ts";
import { decodeSafetensors } from "../../src/engine/safetensors.ts";
import { dispose, ref } from "../../src/engine/params.ts";
import { linear, patchify } from "../../src/engine/layers.ts";
import { denormalizeIntrinsicsArray } from "../../src/geometry/cameras.ts";
import { pluckerRays } from "../../src/geometry/rays.ts";
import { splitViews, type ModelConfig } from "../../src/model/config.ts";
import { cameraSequence, camerasFromInfo, runCameraStack, runPoseHeads } from "../../src/model/cameraEstimator.ts";
import { officialConfig, officialToParams, type ConversionReport } from "../../src/model/official.ts";
import { loadOfficialWeights } from "../../src/model/officialFile.ts";
import { runRayZer, takeViews, type RayZerParams } from "../../src/model/rayzer.ts";
import { rendererSequence, runRenderer } from "../../src/model/renderer.ts";
import { runSceneEncoder, sceneSequence } from "../../src/model/sceneEncoder.ts";
import { positionTable, rayTokens, runPeMlp, runTokenizer } from "../../src/model/tokens.ts";
import { makeForward, makeStagedForward } from "../../src/pipeline/forward.ts";

before(engine);

const TINY = { imageSize: 32, views: 4, inputViews: 2 } as const;
const FIX = (t: { shape: number[]; data: Float32Array }): JArray => np.array(t.data).reshape(t.shape);
async function host(x: JArray): Promise<{ shape: number[]; data: Float32Array }> {
  const shape = [...x.shape];
  return { shape, data: (await x.data()) as Float32Array };
}

type Model = "wildrayzer" | "rayzer";
type Variant = "" | "masked." | "strongpose.";

/** Our params from the official safetensors (state-dict layout), pose heads replaced for the strongpose variant. */
async function paramsFor(model: Model, variant: Variant): Promise<{ params: RayZerParams; cfg: ModelConfig; report: ConversionReport }> {
  const file = decodeSafetensors(readFileSync(`${OFFICIAL_DIR}${model}_tiny.safetensors`), "weights");
  const tensors = new Map(file.tensors);
  if (variant === "strongpose.") {
    for (const [k, t] of decodeSafetensors(readFileSync(`${OFFICIAL_DIR}${model}_tiny_strongpose_weights.safetensors`), "pose").tensors) tensors.set(k, t);
  }
  const shapes = new Map([...tensors].map(([k, t]) => [k, t.shape]));
  const { config } = officialConfig(shapes, "weights", { overrides: TINY });
  const { params, report } = await officialToParams([...tensors.keys()], (k) => tensors.get(k), shapes, config, "weights");
  return { params, cfg: config, report };
}

const CASES: { model: Model; variant: Variant }[] = [
  { model: "wildrayzer", variant: "" },
  { model: "wildrayzer", variant: "masked." },
  { model: "wildrayzer", variant: "strongpose." },
  { model: "rayzer", variant: "" },
  { model: "rayzer", variant: "strongpose." },
];

describe("official config and conversion", () => {
  it("reads the sizes from the tensors and the model kind from the keys; maps every official key", async () => {
    const w = await paramsFor("wildrayzer", "");
    assert.equal(w.cfg.d, 64);
    assert.equal(w.cfg.heads, 4);
    assert.equal(w.cfg.patch, 8);
    assert.equal(w.cfg.sceneTokens, 16);
    assert.deepEqual(w.cfg.layers, { camera: 2, encoder: 2, renderer: 2 });
    assert.equal(w.cfg.maskedTokens, "noiseToken");
    assert.equal(w.cfg.canonicalView, "first");
    assert.equal(w.cfg.spatialPe, "colRow");
    assert.deepEqual(w.report, { dropped: [], missing: [] }); // all 78 keys used
    dispose(w.params);
    const r = await paramsFor("rayzer", "");
    assert.equal(r.cfg.maskedTokens, "zero");
    assert.equal(r.cfg.canonicalView, "middle");
    assert.equal(r.cfg.spatialPe, "rowCol");
    assert.equal(r.cfg.viewSplit, "gcd");
    assert.deepEqual(r.report, { dropped: [], missing: [] }); // all 77 keys used
    dispose(r.params);
  });

  it("RayZer's gcd split matches SplitData: [0,2]/[1,3] for 2+2 (the fixture), 0,1,3,4,…/2,5,8,… for 16+8", async () => {
    const io = readFixture("rayzer_tiny_io.safetensors");
    const inp = io.get("split.input_idx")!.data as BigInt64Array;
    const tgt = io.get("split.target_idx")!.data as BigInt64Array;
    const r = await paramsFor("rayzer", "");
    const s = splitViews(r.cfg, 4);
    dispose(r.params);
    assert.deepEqual(s.inputs, [Number(inp[0]), Number(inp[1])]);
    assert.deepEqual(s.targets, [Number(tgt[0]), Number(tgt[1])]);
    const big = splitViews({ ...r.cfg, views: 24, inputViews: 16 }, 24);
    assert.deepEqual(big.targets, [2, 5, 8, 11, 14, 17, 20, 23]);
    assert.equal(big.inputs.length, 16);
  });

  it("the .pt and the safetensors give the same parameters; a missing noise_token is filled from a fixed seed and reported", async () => {
    const fromPt = await loadOfficialWeights(`${OFFICIAL_DIR}wildrayzer_tiny.pt`, { overrides: TINY });
    const fromSt = await paramsFor("wildrayzer", "");
    assert.equal(fromPt.preset, "official-wildrayzer-2view");
    const a = await host(fromPt.params.cameraEstimator.blocks[1]!.qkv.weight.ref);
    const b = await host(fromSt.params.cameraEstimator.blocks[1]!.qkv.weight.ref);
    assert.deepEqual(a, b);
    // transposed: ours[in, out] = official[out, in]
    const st = decodeSafetensors(readFileSync(`${OFFICIAL_DIR}wildrayzer_tiny.safetensors`), "w").tensors.get("transformer_encoder.1.attn.to_qkv.weight")!;
    assert.deepEqual(st.shape, [192, 64]);
    assert.deepEqual(a.shape, [64, 192]);
    assert.equal(a.data[5 * 192 + 7], st.data[7 * 64 + 5]);
    dispose(fromPt.params);
    dispose(fromSt.params);

    const file = decodeSafetensors(readFileSync(`${OFFICIAL_DIR}wildrayzer_tiny.safetensors`), "w");
    file.tensors.delete("noise_token");
    file.tensors.set("loss_computer.vgg.0.weight", { shape: [2], data: new Float32Array(2) });
    const shapes = new Map([...file.tensors].map(([k, t]) => [k, t.shape]));
    const { config } = officialConfig(shapes, "w", { preset: "official-wildrayzer-2view", overrides: TINY });
    const out = await officialToParams([...file.tensors.keys()], (k) => file.tensors.get(k), shapes, config, "w");
    assert.deepEqual(out.report.dropped, [{ prefix: "loss_computer.", count: 1 }]);
    assert.equal(out.report.missing.length, 1);
    assert.equal(out.report.missing[0]!.name, "sceneEncoder.noiseToken");
    const again = await officialToParams([...file.tensors.keys()], (k) => file.tensors.get(k), shapes, config, "w");
    assert.deepEqual(await host(out.params.sceneEncoder.noiseToken!.ref), await host(again.params.sceneEncoder.noiseToken!.ref));
    dispose(out.params);
    dispose(again.params);
  });

  it("a state dict that does not fit the config is one line naming the keys", async () => {
    const file = decodeSafetensors(readFileSync(`${OFFICIAL_DIR}rayzer_tiny.safetensors`), "r.safetensors");
    file.tensors.delete("decoder_ln.weight");
    const shapes = new Map([...file.tensors].map(([k, t]) => [k, t.shape]));
    const { config } = officialConfig(shapes, "r.safetensors", { overrides: TINY });
    await assert.rejects(officialToParams([...file.tensors.keys()], (k) => file.tensors.get(k), shapes, config, "r.safetensors"), /r\.safetensors: does not match the config .*missing decoder_ln\.weight/);
  });
});

for (const { model, variant } of CASES) {
  describe(`parity with the official ${model} ${variant || "base."} run`, () => {
    const io: Map<string, FixtureTensor> = readFixture(`${model}_tiny_io.safetensors`);
    let p: RayZerParams;
    let cfg: ModelConfig;
    let inputs: number[];
    let targets: number[];
    // a variant stores what it changes; the rest (the masked run's cameras) is the base run's
    const ref32 = (k: string) => f32(io, io.has(variant + k) ? variant + k : k);
    const has = (k: string) => io.has(variant + k);
    const base = (k: string) => f32(io, k); // pose-independent tensors live only under the base name
    const keep = (): JArray | null => (variant === "masked." ? FIX(base("masked.keep_mask")).reshape([2, 2, 16]) : null);

    before(async () => {
      ({ params: p, cfg } = await paramsFor(model, variant));
      ({ inputs, targets } = splitViews(cfg, 4));
    });
    after(() => dispose(p));

    if (variant === "") {
      it("tokens.patch: patchify (channel fastest) of 2x − 1, then the tokenizer linear", async () => {
        const images = FIX(base("images")).reshape([8, 3, 32, 32]);
        const tok = linear(ref(p.tokenizer.proj), patchify(images.mul(2).sub(1), 8)).reshape([2, 4, 16, 64]);
        assertClose(await host(tok), base("tokens.patch"), 1e-5, "tokens.patch");
      });
      it("pe.embedded: the PE MLP on the sin-cos table (spatial order, temporal index)", async () => {
        const table = np.array(positionTable(cfg)).reshape([4, 16, 64]);
        assertClose(await host(table.ref), base("pe.sincos"), 1e-6, "pe.sincos");
        assertClose(await host(runPeMlp(ref(p.tokenizer.pe), table)), base("pe.embedded"), 1e-5, "pe.embedded");
      });
      it("tokens.image_pe: the tokenizer output", async () => {
        assertClose(await host(runTokenizer(ref(p.tokenizer), FIX(base("images")), cfg)), base("tokens.image_pe"), 1e-5, "tokens.image_pe");
      });
      it("encoder.in: camera tokens (code + view-index MLP) before all views' image tokens", async () => {
        const { camCode, camPe } = ref(p.cameraEstimator);
        assertClose(await host(cameraSequence({ camCode, camPe }, FIX(base("tokens.image_pe")), cfg)), base("encoder.in"), 1e-5, "encoder.in");
      });
      it("pose.cam_tokens: the camera-estimator stack on the official image tokens", async () => {
        const { focalHead: _f, poseHead: _p, ...stack } = ref(p.cameraEstimator);
        dispose([_f.fc1.weight, _f.fc1.bias!, _f.fc2.weight, _f.fc2.bias!, _p.fc1.weight, _p.fc1.bias!, _p.fc2.weight, _p.fc2.bias!]);
        assertClose(await host(runCameraStack(stack, FIX(base("tokens.image_pe")), cfg)), base("pose.cam_tokens"), 1e-5, "pose.cam_tokens");
      });
    }
    if (has("pose.cam_info")) {
      it("pose.cam_info: the pose and focal heads on the official camera tokens (canonical view, base pose, cx = cy = 0.5)", async () => {
        const { focalHead, poseHead } = ref(p.cameraEstimator);
        // the strongpose variant changes only the heads: its camera tokens are the base run's
        assertClose(await host(runPoseHeads({ focalHead, poseHead }, FIX(base("pose.cam_tokens")), cfg)), ref32("pose.cam_info"), 1e-5, "pose.cam_info");
      });
      it("out.c2w and out.fxfycxcy: 6D (columns) + t and the normalised intrinsics from the official cam_info", async () => {
        const cams = camerasFromInfo(FIX(ref32("pose.cam_info")));
        assertClose(await host(cams.c2w), ref32("out.c2w"), 1e-5, "out.c2w");
        assertClose(await host(cams.fxfycxcy), ref32("out.fxfycxcy"), 1e-5, "out.fxfycxcy");
      });
    }
    if (has("out.plucker")) {
      it("out.plucker: [o × d, d] through pixel centres from the official cameras", async () => {
        const pix = denormalizeIntrinsicsArray(FIX(ref32("out.fxfycxcy")), 32, 32);
        assertClose(await host(pluckerRays(FIX(ref32("out.c2w")), pix, 32, 32)), ref32("out.plucker"), 1e-5, "out.plucker");
      });
      it("tokens.plucker_target: the renderer's ray tokenizer on the official target rays", async () => {
        const rays = takeViews(FIX(ref32("out.plucker")), targets);
        assertClose(await host(rayTokens(ref(p.renderer.rayTokenizer), rays, cfg)), ref32("tokens.plucker_target"), 1e-5, "tokens.plucker_target");
      });
    }
    if (has("out.scene_tokens")) {
      const sceneInputs = () => ({ img: takeViews(FIX(base("tokens.image_pe")), inputs), rays: takeViews(FIX(ref32("out.plucker")), inputs) });
      it(`encoder_geom.in${variant === "masked." ? " (noise token where dynamic)" : ""} and tokens.fused: the fused input tokens after the scene code`, async () => {
        const { blocks, ...rest } = ref(p.sceneEncoder);
        dispose(blocks);
        const { img, rays } = sceneInputs();
        const { seq, inputs: fused } = sceneSequence(rest, img, rays, keep(), cfg);
        assertClose(await host(seq), ref32("encoder_geom.in"), 1e-5, "encoder_geom.in");
        if (has("tokens.fused")) assertClose(await host(fused), ref32("tokens.fused"), 1e-5, "tokens.fused");
        else fused.dispose();
      });
      it("out.scene_tokens: the scene encoder on the official tokens and rays", async () => {
        const { img, rays } = sceneInputs();
        const scene = runSceneEncoder(ref(p.sceneEncoder), img, rays, keep(), cfg);
        scene.inputs.dispose();
        assertClose(await host(scene.latent), ref32("out.scene_tokens"), 1e-5, "out.scene_tokens");
      });
      const renderViews = async (views: number[]) => {
        const rays = takeViews(FIX(ref32("out.plucker")), views);
        return host(runRenderer(ref(p.renderer), rays, FIX(ref32("out.scene_tokens")), np.zeros([2, 1, 64]), cfg));
      };
      if (variant === "") {
        it("decoder.target_in: layer norm of [target ray tokens, scene tokens] per target view", async () => {
          const { rayTokenizer, inNorm } = ref(p.renderer);
          const q = rendererSequence({ rayTokenizer, inNorm }, takeViews(FIX(ref32("out.plucker")), targets), FIX(ref32("out.scene_tokens")), np.zeros([2, 1, 64]), cfg);
          assertClose(await host(q), ref32("decoder.target_in"), 1e-5, "decoder.target_in");
        });
      }
      it("out.render_target: the renderer on the official scene tokens and target rays", async () => {
        assertClose(await renderViews(targets), ref32("out.render_target"), 1e-4, "out.render_target");
      });
      if (model === "wildrayzer") {
        it("out.render_input: the input views re-rendered (renderer ray tokenizer on the input rays)", async () => {
          assertClose(await renderViews(inputs), ref32("out.render_input"), 1e-4, "out.render_input");
        });
      }
    }
    it("the whole forward from the images: cameras ≤ 1e-5, renders ≤ 1e-4", async () => {
      const views = model === "wildrayzer" ? [...targets, ...inputs] : targets;
      const out = runRayZer(ref(p), FIX(base("images")), cfg, { render: views, keep: keep() });
      assertClose(await host(out.cameras.c2w), ref32("out.c2w"), 1e-5, "out.c2w");
      assertClose(await host(out.cameras.fxfycxcy), ref32("out.fxfycxcy"), 1e-5, "out.fxfycxcy");
      const all = await host(out.renders);
      assertClose({ shape: [2, 2, 3, 32, 32], data: sliceViews(all.data, views.length, 0) }, ref32("out.render_target"), 1e-4, "out.render_target");
      if (model === "wildrayzer") assertClose({ shape: [2, 2, 3, 32, 32], data: sliceViews(all.data, views.length, 2) }, ref32("out.render_input"), 1e-4, "out.render_input");
    });
    if (variant === "masked.") {
      it("the inference forwards with the official keep-mask (one graph, and staged) give the official renders", async () => {
        const keepMask = (await host(keep()!)).data;
        for (const fwd of [makeForward(cfg), makeStagedForward(cfg, { chunk: 1 })]) {
          const out = await fwd.estimate(p, base("images").data, [2, 4, 3, 32, 32], { keep: keepMask });
          fwd.dispose();
          assertClose({ shape: [2, 2, 3, 32, 32], data: out.renders }, ref32("out.render_target"), 1e-4, "masked out.render_target");
        }
      });
    }
    if (variant !== "masked.") {
      it("the staged forward (one jitted block at a time, one target at a time) gives the official cameras and renders, also with the official cameras given", async () => {
        const fwd = makeStagedForward(cfg, { chunk: 1 });
        const out = await fwd.estimate(p, base("images").data, [2, 4, 3, 32, 32]);
        const given = await fwd.withCameras(p, base("images").data, [2, 4, 3, 32, 32], ref32("out.c2w").data, ref32("out.fxfycxcy").data);
        fwd.dispose();
        assertClose({ shape: [2, 4, 4, 4], data: out.c2w }, ref32("out.c2w"), 1e-5, "staged out.c2w");
        assertClose({ shape: [2, 2, 3, 32, 32], data: out.renders }, ref32("out.render_target"), 1e-4, "staged out.render_target");
        assertClose({ shape: [2, 2, 3, 32, 32], data: given }, ref32("out.render_target"), 1e-4, "staged, official cameras given: out.render_target");
      });
    }
  });
}

/** Views [k, k+2) of a [2, r, 3, 32, 32] buffer. */
function sliceViews(data: Float32Array, r: number, k: number): Float32Array {
  const per = 3 * 32 * 32;
  const out = new Float32Array(2 * 2 * per);
  for (let b = 0; b < 2; b++) for (let j = 0; j < 2; j++) out.set(data.subarray((b * r + k + j) * per, (b * r + k + j + 1) * per), (b * 2 + j) * per);
  return out;
}
