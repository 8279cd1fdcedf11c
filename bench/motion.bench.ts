/**
 * The motion estimator and its convolution. Rows: a 3×3 convolution's jitted forward + backward in our im2col form
 * (`conv2d`, channels last) and through `lax.convGeneralDilated` (channels first), at one decoder-like shape; the
 * `small` motion estimator's jitted forward and its full jitted train step (BCE, AdamW) on a stage-2-like batch
 * (2 samples × 6 views at 32²).
 *
 * FLOPs, counted analytically (norms, GELU, upsampling and AdamW are elementwise and left out):
 *   conv        2·m·h·w·k²·c_in·c_out per convolution; fwd + bwd ≈ 3× the forward
 *   estimator   branches and fusion 2·m·n·dm·(c_feat + 2d + 3dm + dm), the blocks (blockForwardGflop), the readout
 *               2·m·n·dm², and every decoder convolution at its resolution
 */
import { jit, lax, numpy as np, random, valueAndGrad, type Array as JArray } from "@jax-js/jax";
import { conv2d, type Conv2d } from "../src/engine/layers.ts";
import { initAdamW, makeTrainStep, type AdamWConfig, type StepMetrics, type TrainState } from "../src/engine/optim.ts";
import { dispose, ref } from "../src/engine/params.ts";
import { decoderChannels, MOTION_PRESETS, motionBlockConfig, type MotionConfig } from "../src/model/motionConfig.ts";
import { initMotionEstimator, runMotionEstimator, type MotionEstimatorParams } from "../src/model/motionEstimator.ts";
import { bceWithLogits } from "../src/train/losses.ts";
import { loadMobilenetV2 } from "../src/features/mobilenetV2.ts";
import { DEFAULT_MODEL, DEFAULT_WILDRAYZER, readModelFile } from "../src/model/loadFile.ts";
import { initRayZer, type RayZerParams } from "../src/model/rayzer.ts";
import { MASK_TAP_CHANNELS } from "../src/pipeline/pseudoLabels.ts";
import { resolveStage2Run, resolveStage3Run } from "../src/train/config.ts";
import { stage2, stage3 } from "../src/train/stages.ts";
import { adamwConfig } from "../src/train/step.ts";
import { blockForwardGflop } from "./flops.ts";
import { randomArray, runBenchFile, type BenchCase, type Prepared } from "./harness.ts";

// conv rows: 12 maps of 16² with 32 → 32 channels (lax's forward + backward takes seconds per call even here)
const [M, S, C] = [12, 16, 32];
const CONV_SHAPE = `m${M} ${S}² c${C}→${C} k3`;
const CONV_GFLOP = (3 * 2 * M * S * S * 9 * C * C) / 1e9;

const CFG: MotionConfig = MOTION_PRESETS.small;
const [B, V, G] = [2, 6, 4]; // samples, views, token grid (32² at patch 8)
const H = G * CFG.patch;
const MOTION_SHAPE = `b${B} v${V} ${H}² dm${CFG.d} L${CFG.layers}`;

/** Forward FLOPs of the motion estimator for m views, in units of 1e9. */
function motionForwardGflop(cfg: MotionConfig, m: number, g: number): number {
  const n = g * g;
  const { d: dm } = cfg;
  let flops = 2 * m * n * dm * (cfg.featureChannels + 2 * cfg.tokenWidth + 3 * dm + dm) + 2 * m * n * dm * dm;
  const ch = decoderChannels(cfg);
  const conv = (side: number, cin: number, cout: number, k: number) => 2 * m * side * side * k * k * cin * cout;
  flops += conv(g, dm, ch[0]!, 3) + conv(g, ch[0]!, ch[0]!, 3);
  for (let i = 1; i < ch.length; i++) {
    const side = g * 2 ** i;
    flops += conv(side, ch[i - 1]!, ch[i]!, 1) + 2 * conv(side, ch[i]!, ch[i]!, 3);
  }
  const last = ch.at(-1)!;
  const side = g * 2 ** (ch.length - 1);
  flops += conv(side, last, last, 3) + conv(side, last, 1, 1);
  return flops / 1e9 + cfg.layers * blockForwardGflop(m, n, motionBlockConfig(cfg));
}

const convCase = (form: "im2col" | "lax"): BenchCase => ({
  name: `conv3x3 fwd+bwd jit ${form}`,
  shape: CONV_SHAPE,
  gflop: CONV_GFLOP,
  reps: { full: form === "lax" ? 2 : 7, quick: 1 },
  warmup: { full: 1, quick: 1 },
  async setup(): Promise<Prepared> {
    const x = await randomArray(1, [M, S, S, C]); // [m, h, w, c]
    const w = await randomArray(2, [3, 3, C, C]); // [k, k, in, out]
    const run =
      form === "im2col"
        ? (xi: JArray, wi: JArray) => conv2d({ weight: wi } satisfies Conv2d, xi) // [m, h, w, c]
        : (xi: JArray, wi: JArray) => lax.convGeneralDilated(xi.transpose([0, 3, 1, 2]), wi.transpose([3, 2, 0, 1]), [1, 1], [[1, 1], [1, 1]]); // [m, c, h, w]
    const f = jit(valueAndGrad((xi: JArray, wi: JArray) => np.mean(np.square(run(xi, wi))), { argnums: [0, 1] } as never) as never) as unknown as (
      a: JArray,
      b: JArray,
    ) => [JArray, JArray[]];
    return {
      call: () => f(x.ref, w.ref),
      teardown: () => dispose([x, w]),
    };
  },
});

type Batch = { features: JArray; tokens: JArray; rays: JArray; target: JArray };

async function motionBatch(seed: number): Promise<Batch> {
  return {
    features: await randomArray(seed, [B, V, CFG.featureChannels, 2 * G, 2 * G]), // the stride-4 map: 8² at 32²
    tokens: await randomArray(seed + 1, [B, V, G * G, CFG.tokenWidth]),
    rays: await randomArray(seed + 2, [B, V, G * G, CFG.tokenWidth]),
    target: np.greater(await randomArray(seed + 3, [B, V, H, H]), 0.6).astype(np.float32), // ~20% positive
  };
}

const F = motionForwardGflop(CFG, B * V, G);

const forward: BenchCase = {
  name: "motion small fwd jit",
  shape: MOTION_SHAPE,
  gflop: F,
  reps: { full: 5, quick: 2 },
  warmup: { full: 1, quick: 1 },
  async setup(): Promise<Prepared> {
    const params = initMotionEstimator(random.key(1), CFG);
    const batch = await motionBatch(10);
    const f = jit((p: MotionEstimatorParams, b: Batch) => runMotionEstimator(p, b.features, b.tokens, b.rays, CFG)); // [b, v, H, W]
    return {
      call: () => f(ref(params), ref(batch)),
      teardown: () => {
        dispose([params, batch]);
        f.dispose();
      },
    };
  },
};

const ADAMW: AdamWConfig = { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05, clipNorm: 1, warmupSteps: 10, totalSteps: 1000, minLrRatio: 0 };

const trainStep: BenchCase = {
  name: "motion small train step jit",
  shape: MOTION_SHAPE,
  gflop: 3 * F,
  reps: { full: 5, quick: 2 },
  warmup: { full: 1, quick: 1 },
  async setup(): Promise<Prepared> {
    const params = initMotionEstimator(random.key(2), CFG);
    const batch = await motionBatch(20);
    const step = makeTrainStep((p: MotionEstimatorParams, b: Batch) => bceWithLogits(runMotionEstimator(p, b.features, b.tokens, b.rays, CFG), b.target), ADAMW);
    let state: TrainState<MotionEstimatorParams> = { params, opt: initAdamW(params) };
    return {
      call: () => {
        const [next, metrics] = step(state, ref(batch)); // consumes the old state
        state = next;
        return [next, metrics];
      },
      release: (out) => dispose((out as [TrainState<MotionEstimatorParams>, StepMetrics])[1]),
      teardown: () => dispose([state, batch]),
    };
  },
};

// The whole stage-2 step as training runs it (src/train/stages.ts): the frozen small RayZer renders the targets of
// 4 synthetic dynamic samples, the pseudo-mask pipeline labels them on the host, the features are extracted and the
// motion estimator takes one BCE step. Host + device, so no FLOP count; the run's metrics.jsonl splits the phases.
const stage2Step: BenchCase = {
  name: "stage-2 step (render + pseudo-labels + update)",
  shape: "small b4 v6 32²",
  gflop: 0,
  reps: { full: 3, quick: 1 },
  warmup: { full: 1, quick: 1 },
  async setup(): Promise<Prepared> {
    const { meta } = readModelFile(DEFAULT_MODEL);
    const run = resolveStage2Run(DEFAULT_MODEL, meta.model, meta.data, { labels: "pseudo", features: true, featureChannels: MASK_TAP_CHANNELS });
    const fx = await loadMobilenetV2();
    const stage = stage2(run, null, fx);
    const params = initRayZer(random.key(0), run.model);
    let state: TrainState<RayZerParams> = { params, opt: initAdamW(params) };
    const step = makeTrainStep(stage.loss("bce"), adamwConfig(run.train), stage.frozen);
    let i = 0;
    return {
      call: async () => {
        const { batch } = await stage.batch(i++, state.params);
        const [next, m] = step(state, batch);
        state = next;
        return [m.loss, m.gradNorm, m.lr];
      },
      teardown: () => {
        dispose(state);
        stage.dispose?.();
        fx.dispose();
      },
    };
  },
};

// The stage-3 step as training runs it: batch 8 of synthetic dynamic samples, copy-paste, the frozen estimator's
// masks on the inputs and rendered targets (motion) or none at all (the RayZer arm: plain fine-tuning), then one
// masked, gated update of the RayZer. Host + device, so no FLOP count.
const stage3Step = (masks: "motion" | "none", copyPaste: number): BenchCase => ({
  name: `stage-3 step (${masks === "motion" ? "estimator masks" : "no masks"}${copyPaste > 0 ? " + copy-paste" : ""} + update)`,
  shape: "small b8 v6 32²",
  gflop: 0,
  reps: { full: 3, quick: 1 },
  warmup: { full: 1, quick: 1 },
  async setup(): Promise<Prepared> {
    const { meta } = readModelFile(DEFAULT_WILDRAYZER);
    const run = resolveStage3Run(DEFAULT_WILDRAYZER, meta.model, meta.data, { masks, copyPaste });
    const fx = await loadMobilenetV2();
    const stage = stage3(run, null, fx);
    const params = initRayZer(random.key(0), run.model);
    let state: TrainState<RayZerParams> = { params, opt: initAdamW(params) };
    const step = makeTrainStep(stage.loss("masked"), adamwConfig(run.train), stage.frozen);
    let i = 0;
    return {
      call: async () => {
        const { batch } = await stage.batch(i++, state.params);
        const [next, m] = step(state, batch);
        state = next;
        return [m.loss, m.gradNorm, m.lr];
      },
      teardown: () => {
        dispose(state);
        stage.dispose?.();
        fx.dispose();
      },
    };
  },
});

await runBenchFile("motion", [convCase("im2col"), convCase("lax"), forward, trainStep, stage2Step, stage3Step("motion", 0.8), stage3Step("none", 0)]);
