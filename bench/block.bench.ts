/**
 * One pre-norm QK-norm transformer block (`runBlock`, src/engine/layers.ts) at a RayZer-like `small` shape:
 * b = 2 scenes, n = 384 tokens (6 views × 64 patch tokens), d = 256, 4 heads, MLP ratio 4. Rows: the jitted
 * forward, an eager forward, the jitted forward + backward (`valueAndGrad` of mean(y²) w.r.t. the params), and
 * a full jitted train step (`makeTrainStep`: gradient, clipping, warm-up/cosine schedule, AdamW) of a 2-block stack.
 *
 * FLOPs, counted analytically (norms, softmax, GELU and AdamW are elementwise and left out; < 2% here):
 *   linears    2·b·n·d²·(3 + 1 + 2·r)    qkv (d → 3d), proj (d → d), MLP (d → r·d → d); r = mlpRatio
 *   attention  2·2·b·n²·d                QKᵀ and attn·V, summed over heads (nh · n² · dh = n² · d each)
 *   forward    F = linears + attention   (1.51 GFLOP per block at this shape)
 *   fwd + bwd  3·F                       the backward pass costs ≈ 2× the forward (grad w.r.t. input and weights)
 *   train step 3·F·L                     L blocks
 */
import { jit, numpy as np, random, valueAndGrad, type Array as JArray } from "@jax-js/jax";
import { initBlock, runBlock, type BlockConfig, type BlockParams } from "../src/engine/layers.ts";
import { initAdamW, makeTrainStep, type AdamWConfig, type StepMetrics, type TrainState } from "../src/engine/optim.ts";
import { dispose, ref } from "../src/engine/params.ts";
import { blockForwardGflop } from "./flops.ts";
import { randomArray, runBenchFile, type BenchCase, type Prepared } from "./harness.ts";

const B = 2; // scenes per batch
const N = 6 * 64; // tokens: 6 views × (64 / 8)² patches
const CFG: BlockConfig = { d: 256, heads: 4, mlpRatio: 4, eps: 1e-5 };
const SHAPE = `b${B} n${N} d${CFG.d} h${CFG.heads} r${CFG.mlpRatio}`;
const STACK = 2; // blocks in the train-step row


const F = blockForwardGflop(B, N, CFG);

const ADAMW: AdamWConfig = {
  lr: 3e-4,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.05,
  clipNorm: 1,
  warmupSteps: 10,
  totalSteps: 1000,
  minLrRatio: 0.1,
};

/** Block params (random truncated-normal weights) and a random input x [b, n, d], materialised. */
async function blockInputs(seed: number): Promise<{ params: BlockParams; x: JArray }> {
  const params = initBlock(random.key(seed), CFG);
  const x = await randomArray(seed + 100, [B, N, CFG.d]); // [b, n, d]
  return { params, x };
}

const meanSquare = (y: JArray) => np.mean(np.square(y)); // scalar

const forward = (mode: "jit" | "eager"): BenchCase => ({
  name: `block fwd ${mode}`,
  shape: SHAPE,
  gflop: F,
  reps: { full: mode === "jit" ? 15 : 7, quick: 2 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    const { params, x } = await blockInputs(1);
    const fwd = (p: BlockParams, h: JArray) => runBlock(p, h, CFG); // [b, n, d]
    const f = mode === "jit" ? jit(fwd) : null;
    return {
      call: () => (f ? f(ref(params), x.ref) : fwd(ref(params), x.ref)),
      teardown: () => {
        dispose([params, x]);
        f?.dispose();
      },
    };
  },
});

const forwardBackward: BenchCase = {
  name: "block fwd+bwd jit",
  shape: SHAPE,
  gflop: 3 * F,
  reps: { full: 7, quick: 2 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    const { params, x } = await blockInputs(2);
    const loss = (p: BlockParams, h: JArray) => meanSquare(runBlock(p, h, CFG));
    const f = jit((p: BlockParams, h: JArray) => valueAndGrad(loss)(p, h)); // [loss, grads shaped like p]
    return {
      call: () => f(ref(params), x.ref),
      teardown: () => {
        dispose([params, x]);
        f.dispose();
      },
    };
  },
};

const trainStep: BenchCase = {
  name: `train step ${STACK} blocks jit`,
  shape: SHAPE,
  gflop: 3 * F * STACK,
  reps: { full: 7, quick: 2 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    type P = { blocks: BlockParams[] };
    const keys = [...(random.split(random.key(3), STACK) as unknown as Iterable<JArray>)]; // STACK keys
    const params: P = { blocks: keys.map((k, i) => initBlock(k, CFG, 0.02 / Math.sqrt(2 * (i + 1)))) };
    const x = await randomArray(103, [B, N, CFG.d]); // [b, n, d]
    const lossFn = (p: P, batch: { x: JArray }) => {
      let h = batch.x;
      for (const blk of p.blocks) h = runBlock(blk, h, CFG); // [b, n, d]
      return meanSquare(h);
    };
    const step = makeTrainStep(lossFn, ADAMW);
    let state: TrainState<P> = { params, opt: initAdamW(params) };
    return {
      call: () => {
        const [next, metrics] = step(state, { x: x.ref }); // consumes the old state
        state = next;
        return [next, metrics];
      },
      release: (out) => dispose((out as [TrainState<P>, StepMetrics])[1]), // the state lives on into the next step
      teardown: () => dispose([state, x]),
    };
  },
};

await runBenchFile("block", [forward("jit"), forward("eager"), forwardBackward, trainStep]);
