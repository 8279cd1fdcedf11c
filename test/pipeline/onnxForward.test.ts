/**
 * The ONNX Runtime forward equals the jax-js forward (`runRayZer`, jitted) on renders and cameras to ≤ 1e-4:
 * on the tiny preset with random (non-trivial) weights and its variants (camera pooling + registers, latent-only
 * renderer, no view code, given cameras, a keep-mask, a non-contiguous render list), and on the shipped model.
 */
import "../../src/engine/workerAdapter.ts";
import { jit, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import assert from "node:assert/strict";
import { test } from "node:test";
import { dispose, rebuild, ref } from "../../src/engine/params.ts";
import { MODEL_PRESETS, tokensPerView, type ModelConfig } from "../../src/model/config.ts";
import { DEFAULT_MODEL, loadModel } from "../../src/model/loadFile.ts";
import { initRayZer, runRayZer, type RayZerParams } from "../../src/model/rayzer.ts";
import { OnnxRayZer } from "../../src/pipeline/onnxForward.ts";
import { engine, randValues } from "../helpers/engine.ts";

/** Random weights far from the init (std 0.02 gives near-constant outputs that would hide a wrong op). */
function randomParams(cfg: ModelConfig, seed: number): RayZerParams {
  const like = initRayZer(random.key(seed), cfg);
  let i = 0;
  const p = rebuild(like, (_name, leaf) => {
    const noise = np.array(randValues(seed * 1000 + i++, leaf.shape, -0.25, 0.25)).reshape(leaf.shape);
    return leaf.ref.add(noise);
  });
  dispose(like);
  return p;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function spread(a: Float32Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return hi - lo;
}

type Case = {
  images: Float32Array;
  shape: [number, number, number, number, number];
  render?: number[];
  cameras?: { c2w: Float32Array; fxfycxcy: Float32Array };
  keep?: Float32Array;
};

async function jaxForward(p: RayZerParams, cfg: ModelConfig, c: Case): Promise<{ renders: Float32Array; c2w: Float32Array; fxfycxcy: Float32Array }> {
  const [b, v] = c.shape;
  const arr = (x: Float32Array, shape: number[]) => np.array(x).reshape(shape);
  // jit takes arrays only: the optional inputs travel in a list of the ones this case has
  const extra: JArray[] = [];
  if (c.cameras) extra.push(arr(c.cameras.c2w, [b, v, 4, 4]), arr(c.cameras.fxfycxcy, [b, v, 4]));
  if (c.keep) extra.push(arr(c.keep, [b, cfg.inputViews, tokensPerView(cfg)]));
  const f = jit((pp: RayZerParams, xs: JArray, more: JArray[]) => {
    const cams = c.cameras ? { cameras: { c2w: more[0]!, fxfycxcy: more[1]! } } : {};
    const keep = c.keep ? more[c.cameras ? 2 : 0]! : null;
    const out = runRayZer(pp, xs, cfg, { ...(c.render ? { render: c.render } : {}), ...cams, keep });
    return [out.renders, out.cameras.c2w, out.cameras.fxfycxcy];
  });
  const [r, cw, k] = f(ref(p), arr(c.images, c.shape), extra) as JArray[];
  return { renders: (await r!.data()) as Float32Array, c2w: (await cw!.data()) as Float32Array, fxfycxcy: (await k!.data()) as Float32Array };
}

async function assertSame(p: RayZerParams, cfg: ModelConfig, c: Case, what: string): Promise<void> {
  const onnx = await OnnxRayZer.create(p, cfg);
  const want = await jaxForward(p, cfg, c);
  const got = await onnx.run(c.images, c.shape, { ...(c.render ? { render: c.render } : {}), ...(c.cameras ? { cameras: c.cameras } : {}), ...(c.keep ? { keep: c.keep } : {}) });
  await onnx.dispose();
  const r = c.render?.length ?? c.shape[1] - cfg.inputViews;
  assert.deepEqual(got.rendersShape, [c.shape[0], r, 3, cfg.imageSize, cfg.imageSize], `${what}: renders shape`);
  assert.ok(spread(want.renders) > 0.05, `${what}: the renders vary (${spread(want.renders)}), so the comparison means something`);
  assert.ok(maxDiff(got.renders, want.renders) <= 1e-4, `${what}: renders differ by ${maxDiff(got.renders, want.renders)}`);
  assert.ok(maxDiff(got.c2w, want.c2w) <= 1e-4, `${what}: c2w differ by ${maxDiff(got.c2w, want.c2w)}`);
  assert.ok(maxDiff(got.fxfycxcy, want.fxfycxcy) <= 1e-4, `${what}: intrinsics differ by ${maxDiff(got.fxfycxcy, want.fxfycxcy)}`);
}

function images(seed: number, b: number, v: number, s: number): Case {
  return { images: randValues(seed, [b, v, 3, s, s], 0, 1), shape: [b, v, 3, s, s] };
}

test("ONNX forward = jax-js forward: tiny preset, random weights", async () => {
  await engine();
  const cfg = MODEL_PRESETS.tiny;
  const p = randomParams(cfg, 1);
  const c = images(2, 2, cfg.views, cfg.imageSize);
  await assertSame(p, cfg, c, "tiny");
  // the estimated cameras are not the identity (the pose path is exercised)
  const want = await jaxForward(p, cfg, c);
  assert.ok(Math.abs(want.c2w[16 + 3]! ) + Math.abs(want.c2w[16 + 0]! - 1) > 1e-3, "view 1's camera moved away from the identity");
  dispose(p);
});

test("ONNX forward = jax-js forward: pooling, registers, latent-only renderer, no view code; given cameras, keep-mask, render list", async () => {
  await engine();
  const cfg: ModelConfig = { ...MODEL_PRESETS.tiny, patch: 4, cameraPool: 2, cameraRegisters: 3, rendererReads: "latent", viewIndexEmbedding: false };
  const p = randomParams(cfg, 3);
  await assertSame(p, cfg, { ...images(4, 1, 3, cfg.imageSize), render: [2, 0] }, "variant, views 0 and 2 rendered, batch 1");
  const b = 2;
  const v = cfg.views;
  const c2w = new Float32Array(b * v * 16);
  const fxfycxcy = new Float32Array(b * v * 4);
  for (let i = 0; i < b * v; i++) {
    const a = 0.1 * i;
    c2w.set([Math.cos(a), 0, Math.sin(a), 0.3 * i, 0, 1, 0, -0.1 * i, -Math.sin(a), 0, Math.cos(a), 0.05, 0, 0, 0, 1], i * 16);
    fxfycxcy.set([1.1, 1.2, 0.5, 0.45], i * 4);
  }
  const keep = randValues(6, [b, cfg.inputViews, tokensPerView(cfg)], 0, 1).map((x) => (x > 0.3 ? 1 : 0));
  await assertSame(p, cfg, { ...images(5, b, v, cfg.imageSize), cameras: { c2w, fxfycxcy }, keep }, "variant, given cameras and keep-mask");
  dispose(p);
});

test("ONNX forward = jax-js forward: the shipped model", async () => {
  await engine();
  const { params, meta } = loadModel(DEFAULT_MODEL);
  const cfg = meta.model;
  await assertSame(params, cfg, images(7, 1, cfg.views, cfg.imageSize), "shipped model");
  dispose(params);
});
