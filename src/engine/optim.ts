/**
 * AdamW (bias-corrected, decoupled weight decay), global-norm gradient clipping, linear warm-up then cosine decay,
 * freeze masks, and `makeTrainStep`: the loss gradient and the optimiser update fused into one jitted function
 * that takes the whole training state and returns the next one. Mirrors optax's pure `init` / `update` pair
 * (`@jax-js/optax` is not published; docs/ENGINE.md). The step counter lives in the state as an array, so the learning
 * rate is computed inside the graph and the jitted step never retraces.
 */
import { jit, numpy as np, valueAndGrad, type Array as JArray } from "@jax-js/jax";
import { namedLeaves, rebuild, ref, type ParamTree } from "./params.ts";

export type AdamWConfig = {
  /** Peak learning rate. */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay, applied to matrices only (ndim ≥ 2; not norms, biases or 1-D tokens). */
  weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  clipNorm: number;
  /** Steps of linear warm-up from 0 to `lr`. */
  warmupSteps: number;
  /** Total steps of the schedule (cosine reaches `minLrRatio · lr` here and stays). */
  totalSteps: number;
  /** Final learning rate as a fraction of `lr`. */
  minLrRatio: number;
};

export type OptState<P extends ParamTree> = { step: JArray; mu: P; nu: P };
export type TrainState<P extends ParamTree> = { params: P; opt: OptState<P> };
/** Per-step numbers the jitted step returns (scalars): loss, gradient norm before clipping, learning rate. */
export type StepMetrics = { loss: JArray; gradNorm: JArray; lr: JArray };

/** Zero moments shaped like `params` and step 0. Reads shapes only; consumes nothing. */
export function initAdamW<P extends ParamTree>(params: P): OptState<P> {
  const zerosLike = () => rebuild(params, (_name, leaf) => np.zeros(leaf.shape));
  return { step: np.zeros([]), mu: zerosLike(), nu: zerosLike() };
}

/** The learning rate at `step` (0-based) on the host: linear warm-up to `lr`, then cosine to `minLrRatio · lr`. */
export function learningRate(step: number, cfg: AdamWConfig): number {
  if (cfg.warmupSteps > 0 && step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  const span = Math.max(1, cfg.totalSteps - cfg.warmupSteps);
  const t = Math.min(1, Math.max(0, (step - cfg.warmupSteps) / span));
  return cfg.lr * (cfg.minLrRatio + (1 - cfg.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/** `learningRate` inside the graph. Consumes `step` (scalar); returns a scalar. */
export function learningRateArray(step: JArray, cfg: AdamWConfig): JArray {
  const span = Math.max(1, cfg.totalSteps - cfg.warmupSteps);
  const t = np.clip(step.ref.sub(cfg.warmupSteps).mul(1 / span), 0, 1);
  const cosine = np.cos(t.mul(Math.PI)).add(1).mul(0.5 * (1 - cfg.minLrRatio)).add(cfg.minLrRatio).mul(cfg.lr);
  if (cfg.warmupSteps <= 0) {
    step.dispose();
    return cosine;
  }
  const warm = step.ref.add(1).mul(cfg.lr / cfg.warmupSteps);
  return np.where(step.less(cfg.warmupSteps), warm, cosine);
}

/**
 * Scales `grads` so their global L2 norm is at most `maxNorm` (no-op when `maxNorm` is 0).
 * Consumes `grads`; returns the clipped grads and the norm before clipping.
 */
export function clipByGlobalNorm<P extends ParamTree>(grads: P, maxNorm: number): { grads: P; norm: JArray } {
  const leaves = namedLeaves(grads);
  const sq = leaves.map(([, g]) => np.sum(np.square(g.ref)));
  const norm = np.sqrt(sq.reduce((a, b) => a.add(b)));
  if (maxNorm <= 0) return { grads, norm };
  const scale = np.minimum(np.reciprocal(norm.ref.add(1e-6)).mul(maxNorm), 1); // scalar
  const byName = new Map(leaves);
  const clipped = rebuild(grads, (name) => byName.get(name)!.mul(scale.ref));
  scale.dispose();
  return { grads: clipped, norm };
}

/**
 * One AdamW update. `frozen(name)` marks leaves (by dotted name) that must not change: they keep their value
 * and moments. Consumes `params`, `grads`, `opt` and `lr` (scalar); returns the new params and state.
 */
export function adamwUpdate<P extends ParamTree>(
  params: P,
  grads: P,
  opt: OptState<P>,
  lr: JArray,
  cfg: AdamWConfig,
  frozen: (name: string) => boolean = () => false,
): TrainState<P> {
  const step = opt.step.add(1); // t, 1-based
  const bc1 = np.exp(step.ref.mul(Math.log(cfg.beta1))).mul(-1).add(1); // 1 − β1^t
  const bc2 = np.exp(step.ref.mul(Math.log(cfg.beta2))).mul(-1).add(1); // 1 − β2^t
  const g = new Map(namedLeaves(grads));
  const m = new Map(namedLeaves(opt.mu));
  const v = new Map(namedLeaves(opt.nu));
  const newMu = new Map<string, JArray>();
  const newNu = new Map<string, JArray>();
  const newParams = rebuild(params, (name, p) => {
    const gi = g.get(name)!;
    const mi = m.get(name)!;
    const vi = v.get(name)!;
    if (frozen(name)) {
      gi.dispose();
      newMu.set(name, mi);
      newNu.set(name, vi);
      return p;
    }
    const mu = mi.mul(cfg.beta1).add(gi.ref.mul(1 - cfg.beta1));
    const nu = vi.mul(cfg.beta2).add(np.square(gi).mul(1 - cfg.beta2));
    newMu.set(name, mu.ref);
    newNu.set(name, nu.ref);
    const mHat = mu.div(bc1.ref);
    const vHat = nu.div(bc2.ref);
    let update = mHat.div(np.sqrt(vHat).add(cfg.eps));
    if (cfg.weightDecay > 0 && p.ndim >= 2) update = update.add(p.ref.mul(cfg.weightDecay));
    return p.sub(update.mul(lr.ref));
  });
  bc1.dispose();
  bc2.dispose();
  lr.dispose();
  return {
    params: newParams,
    opt: {
      step,
      mu: rebuild(opt.mu, (name) => newMu.get(name)!),
      nu: rebuild(opt.nu, (name) => newNu.get(name)!),
    },
  };
}

/**
 * `lossFn(params, batch) → scalar` turned into one jitted training step:
 * `(state, batch) → [nextState, { loss, gradNorm, lr }]`. Loss gradient, clipping, schedule and AdamW update run
 * in one traced graph (or eagerly with `{ jit: false }`). Consumes `state` and `batch`.
 */
export function makeTrainStep<P extends ParamTree, B extends ParamTree>(
  lossFn: (params: P, batch: B) => JArray,
  cfg: AdamWConfig,
  frozen?: (name: string) => boolean,
  opts: { jit?: boolean } = {},
): (state: TrainState<P>, batch: B) => [TrainState<P>, StepMetrics] {
  const step = (state: TrainState<P>, batch: B): [TrainState<P>, StepMetrics] => {
    // The params are used twice (gradient, then update): one extra reference for the gradient's use.
    const vg = (valueAndGrad as unknown as (f: unknown) => (p: ParamTree, b: ParamTree) => [JArray, ParamTree])(lossFn);
    const [loss, rawGrads] = vg(ref(state.params), batch) as [JArray, P];
    const { grads, norm } = clipByGlobalNorm(rawGrads, cfg.clipNorm);
    const lr = learningRateArray(state.opt.step.ref, cfg);
    const next = adamwUpdate(state.params, grads, state.opt, lr.ref, cfg, frozen);
    return [next, { loss, gradNorm: norm, lr }];
  };
  // Eager mode (`jit: false`) exists for the memory test: a stray `.ref` leaks only when run eagerly.
  if (opts.jit === false) return step;
  return jit(step as never) as unknown as (state: TrainState<P>, batch: B) => [TrainState<P>, StepMetrics];
}
