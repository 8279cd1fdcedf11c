/**
 * The `small` RayZer as it trains and renders (src/model, src/train/step.ts), on the preset's real batch (8 scenes
 * of 6 views at 32², from the generator's training stream). Rows: the stage-1 train step (2 targets rendered),
 * the same step while the inputs are also rendered (the first `renderInputsUntil` steps), forward-only inference
 * of the batch (4 targets each), and render time per novel view (one scene, 4 views per call, given cameras).
 *
 * FLOPs, counted analytically by `rayzerForwardGflop` (matmuls only; norms, softmax, activations, Plücker rays and
 * AdamW are elementwise and left out, a few % here). A train step counts 3× its forward.
 */
import { jit, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { blockForwardGflop } from "./flops.ts";
import { initAdamW, type StepMetrics, type TrainState } from "../src/engine/optim.ts";
import { dispose, ref } from "../src/engine/params.ts";
import { blockConfig, tokensPerView, type ModelConfig } from "../src/model/config.ts";
import { initRayZer, runRayZer, type RayZerParams } from "../src/model/rayzer.ts";
import { RUN_PRESETS } from "../src/train/config.ts";
import { trainBatch } from "../src/train/loop.ts";
import { makeStage1Steps, type Stage1Batch } from "../src/train/step.ts";
import { runBenchFile, type BenchCase, type Prepared } from "./harness.ts";

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

await runBenchFile("rayzer", [trainCase(false), trainCase(true), forwardCase, renderCase]);
