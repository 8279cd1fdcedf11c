import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { grad, numpy as np, type Array as JArray } from "@jax-js/jax";
import { engine, values } from "../helpers/engine.ts";
import { loadMobilenetV2, loadNsfwjsMobilenetFiles, mobilenetV2FromFiles, MOBILENET_TAPS, type FeatureExtractor } from "../../src/features/mobilenetV2.ts";
import { decodeTfjsWeights } from "../../src/features/tfjsWeights.ts";
import { buildKerasGraph } from "../../src/features/kerasGraph.ts";
import { readClip } from "../../src/data/readers/index.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { makeRng } from "../../src/engine/rng.ts";
import { REAL, noReal } from "../helpers/realData.ts";

let fx: FeatureExtractor;
before(async () => {
  await engine();
  fx = await loadMobilenetV2();
});

describe("bundled MobileNetV2 (nsfwjs) in our engine", () => {
  it("matches the package's own tfjs model on a real frame at every tap (relative error < 1e-5)", { skip: noReal }, async () => {
    await tf.setBackend("cpu");
    const S = 224; // the model's fixed input size in its tfjs topology
    const clip = await readClip(join(REAL, "tennis"), { size: S, maxFrames: 2 });
    const img = clip.frames[1]!.image;
    const { modelJson, shard } = await loadNsfwjsMobilenetFiles();
    const weightData = shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength) as ArrayBuffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs: modelJson.weightsManifest[0]!.weights as tf.io.WeightsManifestEntry[], weightData }));
    const taps = Object.values(MOBILENET_TAPS);
    const sub = tf.model({ inputs: model.inputs, outputs: taps.map((t) => model.getLayer(t).output as tf.SymbolicTensor) });
    const nhwc = new Float32Array(S * S * 3);
    for (let c = 0; c < 3; c++) for (let i = 0; i < S * S; i++) nhwc[i * 3 + c] = img[c * S * S + i]! * 2 - 1; // Keras's [-1, 1]
    const theirs = sub.predict(tf.tensor4d(nhwc, [1, S, S, 3])) as tf.Tensor[];
    const ours = fx.extract(np.array(img).reshape([1, 3, S, S]), taps);
    for (const [i, t] of taps.entries()) {
      const a = await values(ours.get(t)!);
      const b = await theirs[i]!.data();
      const [, hh, ww, cc] = theirs[i]!.shape as number[];
      assert.equal(a.length, b.length, `${t} size`);
      let maxErr = 0;
      let maxVal = 0;
      for (let c = 0; c < cc!; c++) for (let p = 0; p < hh! * ww!; p++) {
        maxErr = Math.max(maxErr, Math.abs(a[c * hh! * ww! + p]! - b[p * cc! + c]!));
        maxVal = Math.max(maxVal, Math.abs(b[p * cc! + c]!));
      }
      assert.ok(maxVal > 1 && maxErr / maxVal < 1e-5, `${t}: max error ${maxErr} of max value ${maxVal}`);
    }
    tf.dispose([...theirs]);
    model.dispose();
  });

  it("is differentiable: the input gradient matches central finite differences", async () => {
    // ReLU6 makes the network piecewise linear: a small image and a small step keep kinks out of the difference
    const S = 16;
    const rng = makeRng(3);
    const x0 = Float32Array.from({ length: 3 * S * S }, () => 0.2 + 0.6 * rng.next());
    const w = Float32Array.from({ length: 24 * 4 * 4 }, () => rng.next() - 0.5);
    const f = (x: JArray) => np.sum(fx.extract(x, [MOBILENET_TAPS.stride4]).get(MOBILENET_TAPS.stride4)!.mul(np.array(w).reshape([1, 24, 4, 4])));
    const g = await values(grad(f)(np.array(x0).reshape([1, 3, S, S])));
    const evalAt = async (x: Float32Array) => (await values(f(np.array(x).reshape([1, 3, S, S]))))[0]!;
    for (let k = 0; k < 4; k++) {
      const d = Float32Array.from({ length: x0.length }, () => rng.next() - 0.5);
      const eps = 3e-4;
      const plus = await evalAt(x0.map((v, i) => v + eps * d[i]!));
      const minus = await evalAt(x0.map((v, i) => v - eps * d[i]!));
      const fd = (plus - minus) / (2 * eps);
      const an = g.reduce((s, gi, i) => s + gi * d[i]!, 0);
      assert.ok(Math.abs(fd - an) <= 0.02 * Math.abs(an) + 0.05, `direction ${k}: finite difference ${fd} vs gradient ${an}`);
    }
  });

  it("builds from bytes alone, as the browser viewer does: model.json as JSON text, the shard's bytes, no Buffer", async () => {
    const { modelJson, shard } = await loadNsfwjsMobilenetFiles();
    // what the page fetches: the JSON text and a fresh copy of the bytes; Node's Buffer is hidden while it builds
    const text = new TextEncoder().encode(JSON.stringify(modelJson));
    const bytes = new Uint8Array(shard);
    const saved = globalThis.Buffer;
    let page: FeatureExtractor;
    try {
      (globalThis as { Buffer?: unknown }).Buffer = undefined;
      page = mobilenetV2FromFiles({ modelJson: JSON.parse(new TextDecoder().decode(text)) as typeof modelJson, shard: bytes }, "assets/mobilenet_v2.json");
    } finally {
      globalThis.Buffer = saved;
    }
    const rng = makeRng(11);
    const S = 32;
    const img = Float32Array.from({ length: 3 * S * S }, () => rng.next());
    const tap = MOBILENET_TAPS.stride4;
    const ours = await values(page.extract(np.array(img).reshape([1, 3, S, S]), [tap]).get(tap)!);
    const node = await values(fx.extract(np.array(img).reshape([1, 3, S, S]), [tap]).get(tap)!);
    page.dispose();
    assert.equal(ours.length, 24 * 8 * 8);
    assert.ok(Math.max(...node.map(Math.abs)) > 0.5, "the features are not zero");
    assert.deepEqual(ours, node, "bitwise the features of the Node loader");
    // a file that is not a tfjs model.json is one line naming it
    assert.throws(
      () => mobilenetV2FromFiles({ modelJson: { modelTopology: null, weightsManifest: [] }, shard: bytes }, "assets/x.json"),
      (e: unknown) => e instanceof WildrayzerError && e.message === "assets/x.json: not a tfjs model.json (expected modelTopology and weightsManifest)",
    );
  });

  it("refuses sizes that are not a multiple of 16", () => {
    assert.throws(() => fx.extract(np.zeros([1, 3, 40, 40]), [MOBILENET_TAPS.stride8]), (e: unknown) => e instanceof WildrayzerError && /multiple of 16/.test(e.message));
  });
});

describe("tfjs weights and Keras graphs", () => {
  it("decode float32, uint8-quantised and float16 entries; a short shard is one clear line", () => {
    const bytes = new Uint8Array(4 * 2 + 3 + 1 + 2 * 2);
    const dv = new DataView(bytes.buffer);
    dv.setFloat32(0, 1.5, true);
    dv.setFloat32(4, -2.25, true);
    bytes.set([0, 10, 255], 8); // uint8 q → min + scale·q
    dv.setUint16(12, 0x3c00, true); // 1.0 in half
    dv.setUint16(14, 0xc000, true); // -2.0 in half
    const manifest = [{ paths: ["x"], weights: [
      { name: "a", shape: [2], dtype: "float32" },
      { name: "q", shape: [3], dtype: "float32", quantization: { dtype: "uint8", min: -1, scale: 0.5 } },
      { name: "h", shape: [2], dtype: "float32", quantization: { dtype: "float16" } },
    ] }];
    // 1 padding byte after q keeps h aligned as written above
    manifest[0]!.weights.splice(2, 0, { name: "pad", shape: [1], dtype: "float32", quantization: { dtype: "uint8", min: 0, scale: 1 } });
    const w = decodeTfjsWeights(manifest, [bytes], "m.json");
    assert.deepEqual(Array.from(w.get("a")!.data), [1.5, -2.25]);
    assert.deepEqual(Array.from(w.get("q")!.data), [-1, 4, 126.5]);
    assert.deepEqual(Array.from(w.get("h")!.data), [1, -2]);
    assert.throws(() => decodeTfjsWeights(manifest, [bytes.subarray(0, 10)], "m.json"), /m\.json: shard too short for weight q/);
  });

  it("name what is missing or unsupported", () => {
    const topology = { model_config: { config: { layers: [
      { class_name: "InputLayer", config: { name: "in", batch_input_shape: [null, 8, 8, 3] }, inbound_nodes: [] },
      { class_name: "Conv2D", config: { name: "c", strides: [1, 1], padding: "same", use_bias: false }, inbound_nodes: [[["in", 0, 0, {}]]] },
      { class_name: "LSTM", config: { name: "r" }, inbound_nodes: [[["c", 0, 0, {}]]] },
    ] } } };
    assert.throws(() => buildKerasGraph(topology, new Map(), "c", "t.json"), /t\.json: missing weight c\/kernel/);
    const k = { shape: [1, 1, 3, 4], data: new Float32Array(12) };
    assert.throws(() => buildKerasGraph(topology, new Map([["c/kernel", k]]), "r", "t.json"), /t\.json: r: layer class LSTM is not supported/);
  });
});
