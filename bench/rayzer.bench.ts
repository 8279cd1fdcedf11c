/**
 * The `small` RayZer as it trains and renders (src/model, src/train/step.ts), on the preset's real batch (8 scenes
 * of 6 views at 32², from the generator's training stream). Rows: the stage-1 train step (2 targets rendered),
 * the same step while the inputs are also rendered (the first `renderInputsUntil` steps), forward-only inference
 * of the batch (4 targets each), and render time per novel view (one scene, 4 views per call, given cameras).
 *
 * FLOPs, counted analytically by `rayzerForwardGflop` (matmuls only; norms, softmax, activations, Plücker rays and
 * AdamW are elementwise and left out, a few % here). A train step counts 3× its forward.
 */
import { blockUntilReady, jit, makeJaxpr, numpy as np, random, tree, type Array as JArray } from "@jax-js/jax";
import { blockForwardGflop } from "./flops.ts";
import { makeRng } from "../src/engine/rng.ts";
import { initAdamW, type StepMetrics, type TrainState } from "../src/engine/optim.ts";
import { dispose, ref } from "../src/engine/params.ts";
import { MODEL_PRESETS, blockConfig, tokensPerView, type ModelConfig } from "../src/model/config.ts";
import { initRayZer, runRayZer, type RayZerParams } from "../src/model/rayzer.ts";
import { RUN_PRESETS } from "../src/train/config.ts";
import { trainBatch } from "../src/train/batches.ts";
import { makeStage1Steps, type Stage1Batch } from "../src/train/step.ts";
import { OnnxRayZer } from "../src/pipeline/onnxForward.ts";
import type { HostParams } from "../src/model/onnxExport.ts";
import { namedLeaves } from "../src/engine/params.ts";
import { randomArray, runBenchFile, type BenchCase, type Prepared } from "./harness.ts";

const RUN = RUN_PRESETS.small;
const M = RUN.model;
const B = RUN.train.batch;

/** Forward GFLOP of a RayZer call: b samples of M.views views, `t` views rendered (formula in the header). */
export function rayzerForwardGflop(cfg: ModelConfig, b: number, t: number): number {
  const n = tokensPerView(cfg);
  const { d, views: v, inputViews: k, sceneTokens: S, cameraRegisters: R } = cfg;
  const P = cfg.patch * cfg.patch;
  const bc = blockConfig(cfg);
  const stack = (bb: number, nn: number, layers: number) => layers * blockForwardGflop(bb, nn, bc) * 1e9;
  const m = cfg.rendererReads === "latentAndInputs" ? S + k * n : S;
  const flops =
    2 * b * v * n * 3 * P * d + // tokenizer
    stack(b, v + v * n + R, cfg.layers.camera) +
    2 * b * (d * d + d) + 2 * b * v * (2 * d * d + 9 * d) + // focal and pose heads
    2 * b * k * n * 6 * P * d + 2 * b * k * n * 3 * d * d + // input ray tokens, fuse MLP
    stack(b, S + k * n, cfg.layers.encoder) +
    2 * b * t * n * 6 * P * d + // target ray tokens
    stack(b * t, n + m, cfg.layers.renderer) +
    2 * b * t * n * d * 3 * P; // RGB head
  return flops / 1e9;
}

const SHAPE = `b${B} v${M.views} ${M.imageSize}² d${M.d}`;

const trainCase = (withInputs: boolean): BenchCase => {
  const t = RUN.train.targetsPerStep + (withInputs ? M.inputViews : 0);
  return {
    name: `small train step${withInputs ? " +inputs" : ""} jit`,
    shape: `${SHAPE} t${t}`,
    gflop: 3 * rayzerForwardGflop(M, B, t),
    reps: { full: 5, quick: 2 },
    warmup: { full: 2, quick: 1 },
    async setup(): Promise<Prepared> {
      const host = trainBatch(RUN, 0);
      const images = np.array(host.images).reshape(host.shape);
      await images.blockUntilReady();
      const steps = makeStage1Steps(RUN);
      const step = withInputs ? steps.withInputs : steps.plain;
      const params = initRayZer(random.key(0), M);
      let state: TrainState<RayZerParams> = { params, opt: initAdamW(params) };
      return {
        // As the training loop does: wait for the step's metrics only. The new state is computed by then or
        // forced by the next step, so over the timed calls the median is the steady-state time per step.
        // (Waiting on all ~300 state arrays each call adds a round trip per array: ~2× slower with workers.)
        call: () => {
          const batch: Stage1Batch = { images: images.ref };
          const [next, metrics] = step(state, batch); // consumes the old state
          state = next;
          return metrics;
        },
        release: (out) => dispose(out as StepMetrics),
        teardown: () => dispose([state, images]),
      };
    },
  };
};

const forwardCase: BenchCase = {
  name: "small forward jit",
  shape: `${SHAPE} t${M.views - M.inputViews}`,
  gflop: rayzerForwardGflop(M, B, M.views - M.inputViews),
  reps: { full: 7, quick: 2 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    const host = trainBatch(RUN, 0);
    const images = np.array(host.images).reshape(host.shape);
    const params = initRayZer(random.key(0), M);
    const f = jit((p: RayZerParams, x: JArray) => runRayZer(p, x, M).renders);
    return { call: () => f(ref(params), images.ref), teardown: () => (dispose([params, images]), f.dispose()) };
  },
};

/**
 * The same forward on ONNX Runtime (src/pipeline/onnxForward.ts: the graph of src/model/onnxExport.ts, native
 * kernels, `WRZ_THREADS` intra-op threads), host images in and host renders out, as `eval` runs it.
 */
const forwardOnnxCase: BenchCase = {
  name: "small forward onnx",
  shape: `${SHAPE} t${M.views - M.inputViews}`,
  gflop: rayzerForwardGflop(M, B, M.views - M.inputViews),
  reps: { full: 15, quick: 3 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    const host = trainBatch(RUN, 0);
    const params = initRayZer(random.key(0), M);
    const onnx = await OnnxRayZer.create(params, M);
    dispose(params);
    return { call: () => onnx.run(host.images, host.shape).then(() => []), release: () => {}, teardown: () => void onnx.dispose() };
  },
};

/** One scene, `views − inputs` novel views per call with given cameras (what `render` does); reported per call. */
const renderCase: BenchCase = {
  name: `small render ${M.views - M.inputViews} views jit`,
  shape: `b1 v${M.views} ${M.imageSize}² d${M.d}`,
  gflop: rayzerForwardGflop(M, 1, M.views - M.inputViews),
  reps: { full: 9, quick: 2 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    const host = trainBatch(RUN, 1);
    const one = host.images.subarray(0, host.images.length / B);
    const v = M.views;
    const images = np.array(one).reshape([1, v, 3, M.imageSize, M.imageSize]);
    const c2w = np.array(Array.from({ length: v }, (_, i) => [1, 0, 0, 0.05 * i, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]).flat()).reshape([1, v, 4, 4]);
    const k = np.array(Array.from({ length: v }, () => [1.1, 1.1, 0.5, 0.5]).flat()).reshape([1, v, 4]);
    const params = initRayZer(random.key(0), M);
    const f = jit((p: RayZerParams, x: JArray, c: JArray, kk: JArray) => runRayZer(p, x, M, { cameras: { c2w: c, fxfycxcy: kk } }).renders);
    return {
      call: () => f(ref(params), images.ref, c2w.ref, k.ref),
      teardown: () => (dispose([params, images, c2w, k]), f.dispose()),
    };
  },
};

const PAPER = MODEL_PRESETS.paper;

/**
 * Parameters shaped as `initRayZer(cfg)` builds them (shapes and tree found abstractly, no memory), filled with
 * seeded uniform ±0.02 values uploaded leaf by leaf. Timing does not depend on the values, and jax-js's own init of
 * the 237 M-parameter paper model runs out of the wasm heap (its temporaries round up to power-of-2 size classes).
 */
async function hostParams(cfg: ModelConfig, seed: number): Promise<RayZerParams> {
  const traced = makeJaxpr((k: JArray) => initRayZer(k, cfg) as never)(random.key(0));
  const outs = (traced.jaxpr as unknown as { jaxpr: { outs: { aval: { shape: number[] } }[] } }).jaxpr.outs;
  const shapes = outs.map((o) => [...o.aval.shape]);
  traced.jaxpr.dispose();
  const rng = makeRng(seed);
  const leaves: JArray[] = [];
  for (const shape of shapes) {
    const data = new Float32Array(shape.reduce((p, d) => p * d, 1));
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-0.02, 0.02);
    const x = np.array(data).reshape(shape);
    await blockUntilReady(x);
    leaves.push(x);
  }
  return tree.unflatten(traced.treedef, leaves) as unknown as RayZerParams;
}

/**
 * The `paper` model's forward on one scene (batch 1 instead of the paper's 8), all 6 targets rendered, random
 * images: ~2 TFLOP a call. WebGPU only. On wasm the jitted forward needs more than jax-js's 4 GiB heap (measured:
 * the parameters alone take 0.95 GB, 1.4 GB in size classes, and the first call fails to allocate within seconds);
 * the plain-JS cpu backend would take hours.
 */
const paperForwardCase: BenchCase = {
  name: "paper forward jit",
  shape: `b1 v${PAPER.views} ${PAPER.imageSize}² d${PAPER.d} t${PAPER.views - PAPER.inputViews}`,
  gflop: rayzerForwardGflop(PAPER, 1, PAPER.views - PAPER.inputViews),
  reps: { full: 5, quick: 2 },
  warmup: { full: 1, quick: 1 },
  skip: (device) =>
    device === "wasm"
      ? "the paper model's forward does not fit jax-js's 4 GiB wasm heap (WebGPU only: WRZ_BENCH_DEVICE=webgpu)"
      : device === "cpu"
        ? "~2 TFLOP a call is far too slow for the plain-JS backend (WebGPU only: WRZ_BENCH_DEVICE=webgpu)"
        : null,
  async setup(): Promise<Prepared> {
    const images = await randomArray(1, [1, PAPER.views, 3, PAPER.imageSize, PAPER.imageSize]);
    const params = await hostParams(PAPER, 2);
    const f = jit((p: RayZerParams, x: JArray) => runRayZer(p, x, PAPER).renders);
    return { call: () => f(ref(params), images.ref), teardown: () => (dispose([params, images]), f.dispose()) };
  },
};

/**
 * Host parameters of `cfg`'s shapes (found abstractly), seeded uniform ±0.02, without jax-js arrays: the paper
 * model's 237 M parameters go straight to ONNX Runtime.
 */
function hostOnlyParams(cfg: ModelConfig, seed: number): HostParams {
  const traced = makeJaxpr((k: JArray) => initRayZer(k, cfg) as never)(random.key(0));
  const outs = (traced.jaxpr as unknown as { jaxpr: { outs: { aval: { shape: number[] } }[] } }).jaxpr.outs;
  const shapes = outs.map((o) => [...o.aval.shape]);
  traced.jaxpr.dispose();
  // names in tree order: unflatten placeholder leaves that look like arrays to namedLeaves
  const fake = shapes.map((shape) => ({ shape, dtype: "float32", dispose: () => {} }));
  const named = namedLeaves(tree.unflatten(traced.treedef, fake as never) as never);
  const rng = makeRng(seed);
  const out: HostParams = new Map();
  for (const [name, leaf] of named) {
    const data = new Float32Array(leaf.shape.reduce((p, d) => p * d, 1));
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-0.02, 0.02);
    out.set(name, { data, shape: [...leaf.shape] });
  }
  return out;
}

/** The paper model's forward (as `paper forward jit`) on ONNX Runtime: it runs on the CPU, outside the wasm heap. */
const paperForwardOnnxCase: BenchCase = {
  name: "paper forward onnx",
  shape: paperForwardCase.shape,
  gflop: paperForwardCase.gflop,
  reps: { full: 3, quick: 1 },
  warmup: { full: 1, quick: 1 },
  // ~1 min a call on one core: run it at 2+ threads only, to keep `npm run bench` within minutes
  skip: (_device, threads) => (threads < 2 ? "~2 TFLOP a call: run at 2 or more threads" : null),
  async setup(): Promise<Prepared> {
    const rng = makeRng(1);
    const shape = [1, PAPER.views, 3, PAPER.imageSize, PAPER.imageSize];
    const images = Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.uniform(0, 1));
    const onnx = await OnnxRayZer.fromHost(hostOnlyParams(PAPER, 2), PAPER);
    return { call: () => onnx.run(images, shape).then(() => []), release: () => {}, teardown: () => void onnx.dispose() };
  },
};

await runBenchFile("rayzer", [trainCase(false), trainCase(true), forwardCase, forwardOnnxCase, renderCase, paperForwardCase, paperForwardOnnxCase]);
