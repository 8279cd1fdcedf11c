/**
 * LPIPS v0.1 (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric"), as the
 * `lpips` package computes `lpips.LPIPS(net='vgg'|'alex', version='0.1')(x, y, normalize=True)`, in our engine so
 * that it is differentiable and runs on every backend. Images in [0, 1] go to [-1, 1], through the ScalingLayer
 * ((x − shift) / scale), through the torchvision trunk (VGG16 or AlexNet `features`, split into slice1..slice5);
 * at each of the five taps (VGG relu1_2, relu2_2, relu3_3, relu4_3, relu5_3; AlexNet relu1..relu5) the features
 * are unit-normalised over channels (f / (‖f‖₂ + 1e-10)), squared differences are weighted per channel by the
 * layer's linear head (a bias-free 1×1 conv; its dropout is off at eval), averaged over positions and summed:
 *   d(x, y) = Σ_l mean_{h,w} Σ_c w_lc (f̂_lc(x) − f̂_lc(y))²
 * Reference: https://github.com/richzhang/PerceptualSimilarity, lpips/lpips.py (LPIPS, ScalingLayer,
 * NetLinLayer), lpips/__init__.py (normalize_tensor), lpips/pretrained_networks.py (alexnet, vgg16 slices).
 *
 * Weights are bring-your-own: nothing is bundled (the linear heads are the lpips package's BSD-2 `weights/v0.1/
 * {alex,vgg}.pth`, the trunks torchvision's ImageNet AlexNet / VGG16). `loadLpips` takes ONE safetensors file
 * holding `lpips.LPIPS(net=...).state_dict()` under the package's own names: `net.slice{k}.{i}.weight|bias` (i =
 * the torchvision `features` index: AlexNet convs 0, 3, 6, 8, 10; VGG16 convs 0 2 | 5 7 | 10 12 14 | 17 19 21 |
 * 24 26 28) and `lin{k}.model.1.weight` ([1, C, 1, 1]). Optional, since a state_dict of lpips ≥ 0.1.4 has them but
 * a hand-assembled file may not: `scaling_layer.shift|scale` ([1, 3, 1, 1]; absent → the package's constants) and
 * the `lins.{k}.model.1.weight` aliases of the heads (shape-checked, otherwise ignored). Any other tensor, a
 * missing one or a wrong shape is one `WildrayzerError` line listing them all.
 *
 * Deviations: x and y run through the trunk as one batch of 2b (same values per image). Where a feature vector is
 * exactly zero (every channel dead after the ReLU), the norm's gradient is taken as 0 instead of the NaN that
 * sqrt′(0) gives in PyTorch; forward values are identical. No `spatial=True` map, no v0.0 and no squeezenet.
 */
import { lax, numpy as np, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { readFileChecked } from "../engine/files.ts";
import { dispose, ref } from "../engine/params.ts";
import { decodeSafetensors, type SafetensorsFile, checkTensors } from "../engine/safetensors.ts";

export type LpipsNet = "vgg" | "alex";

/** Output channels at the five taps: the package's `chns` (lpips.py), used for every conv of that stage. */
export const LPIPS_WIDTHS: Record<LpipsNet, readonly number[]> = {
  vgg: [64, 128, 256, 512, 512],
  alex: [64, 192, 384, 256, 256],
};

/** Which trunk and how wide (tests use reduced widths with the official names). */
export type LpipsConfig = { net: LpipsNet; widths: readonly number[] };

/** One layer of a trunk slice. `conv` is the torchvision Conv2d at `index` followed by its ReLU (index + 1). */
export type TrunkOp =
  | { kind: "conv"; index: number; cin: number; cout: number; kernel: number; stride: number; pad: number }
  | { kind: "maxPool"; size: number; stride: number };

type Conv = { weight: JArray; bias: JArray };

/** Parameters by tap: the convs of each slice in order, the head of each tap, and the ScalingLayer constants. */
export type LpipsParams = { shift: JArray; scale: JArray; slices: Conv[][]; lins: JArray[] };

/** The package's ScalingLayer buffers (lpips.py), used when the file has none. */
const SHIFT = [-0.03, -0.088, -0.188];
const SCALE = [0.458, 0.448, 0.45];
/** normalize_tensor's eps (lpips/__init__.py). */
const NORM_EPS = 1e-10;

/** The five slices of torchvision's `features` as pretrained_networks.py cuts them. */
export function lpipsTrunk(cfg: LpipsConfig): TrunkOp[][] {
  const w = cfg.widths;
  if (w.length !== 5) throw new Error(`lpipsTrunk: ${w.length} widths, need 5`);
  const conv = (index: number, cin: number, cout: number, kernel: number, stride: number, pad: number): TrunkOp => ({ kind: "conv", index, cin, cout, kernel, stride, pad });
  switch (cfg.net) {
    case "alex": {
      const pool: TrunkOp = { kind: "maxPool", size: 3, stride: 2 }; // MaxPool2d(3, 2) at 2, 5 (and 12, unused)
      return [
        [conv(0, 3, w[0]!, 11, 4, 2)], // features[0:2]
        [pool, conv(3, w[0]!, w[1]!, 5, 1, 2)], // features[2:5]
        [pool, conv(6, w[1]!, w[2]!, 3, 1, 1)], // features[5:8]
        [conv(8, w[2]!, w[3]!, 3, 1, 1)], // features[8:10]
        [conv(10, w[3]!, w[4]!, 3, 1, 1)], // features[10:12]
      ];
    }
    case "vgg": {
      // VGG16 cfg "D": 2, 2, 3, 3, 3 convs (3×3, padding 1) per stage, MaxPool2d(2, 2) between stages; slices
      // features[0:4], [4:9], [9:16], [16:23], [23:30] start at those pools.
      const slices: TrunkOp[][] = [];
      let index = 0;
      let cin = 3;
      for (const [s, n] of [2, 2, 3, 3, 3].entries()) {
        const ops: TrunkOp[] = [];
        if (s > 0) {
          ops.push({ kind: "maxPool", size: 2, stride: 2 });
          index += 1;
        }
        for (let i = 0; i < n; i++, index += 2, cin = w[s]!) ops.push(conv(index, cin, w[s]!, 3, 1, 1));
        slices.push(ops);
      }
      return slices;
    }
  }
}

/** Required tensors (name → shape) and optional ones that are checked when present. */
export function lpipsTensorShapes(cfg: LpipsConfig): { required: Map<string, number[]>; optional: Map<string, number[]> } {
  const required = new Map<string, number[]>();
  const optional = new Map<string, number[]>([["scaling_layer.shift", [1, 3, 1, 1]], ["scaling_layer.scale", [1, 3, 1, 1]]]);
  for (const [k, ops] of lpipsTrunk(cfg).entries()) {
    for (const op of ops) {
      if (op.kind !== "conv") continue;
      required.set(`net.slice${k + 1}.${op.index}.weight`, [op.cout, op.cin, op.kernel, op.kernel]); // OIHW
      required.set(`net.slice${k + 1}.${op.index}.bias`, [op.cout]);
    }
  }
  for (const [k, c] of cfg.widths.entries()) {
    required.set(`lin${k}.model.1.weight`, [1, c, 1, 1]);
    optional.set(`lins.${k}.model.1.weight`, [1, c, 1, 1]);
  }
  return { required, optional };
}

/**
 * LPIPS parameters from a decoded file (see the header for the names). A file that does not match `cfg` throws
 * one `WildrayzerError` line listing the missing, unexpected and mis-shaped tensors. Returns new arrays.
 */
export function lpipsParamsFromSafetensors(file: SafetensorsFile, cfg: LpipsConfig, fileName: string): LpipsParams {
  const { required, optional } = lpipsTensorShapes(cfg);
  checkTensors(file, required, optional, fileName, `LPIPS-${cfg.net} (widths ${cfg.widths.join(", ")})`);
  const tensor = (name: string, fallback?: number[]): JArray => {
    const t = file.tensors.get(name);
    return t ? np.array(t.data, { shape: t.shape }) : np.array(new Float32Array(fallback!), { shape: [1, 3, 1, 1] });
  };
  return {
    shift: tensor("scaling_layer.shift", SHIFT),
    scale: tensor("scaling_layer.scale", SCALE),
    slices: lpipsTrunk(cfg).map((ops, k) =>
      ops.flatMap((op) => (op.kind === "conv" ? [{ weight: tensor(`net.slice${k + 1}.${op.index}.weight`), bias: tensor(`net.slice${k + 1}.${op.index}.bias`) }] : [])),
    ),
    lins: cfg.widths.map((_, k) => tensor(`lin${k}.model.1.weight`)),
  };
}

/** Spatial sizes at the five taps for an h × w input, or null where a layer would have no output. */
export function lpipsTapSizes(cfg: LpipsConfig, h: number, w: number): [number, number][] | null {
  const sizes: [number, number][] = [];
  let hw: [number, number] = [h, w];
  for (const ops of lpipsTrunk(cfg)) {
    for (const op of ops) {
      hw = hw.map((n) => (op.kind === "conv" ? Math.floor((n + 2 * op.pad - op.kernel) / op.stride) + 1 : Math.floor((n - op.size) / op.stride) + 1)) as [number, number];
      if (hw[0] < 1 || hw[1] < 1) return null;
    }
    sizes.push(hw);
  }
  return sizes;
}

/**
 * f / (‖f‖₂ + eps) over channels (normalize_tensor). The square root is taken only where the sum is positive, so
 * an all-zero feature vector gets a zero gradient instead of NaN; its value (0) is the same.
 * Consumes `f` [n, c, h, w]; returns [n, c, h, w].
 */
function unitNormalize(f: JArray): JArray {
  const s = np.sum(np.square(f.ref), 1, { keepdims: true }); // [n, 1, h, w]
  const positive = np.greater(s.ref, 0); // [n, 1, h, w]
  const norm = np.where(positive.ref, np.sqrt(np.where(positive, s, 1)), 0); // [n, 1, h, w]
  return f.div(norm.add(NORM_EPS));
}

/**
 * LPIPS distances [b]. Shapes: b batch, h w pixels, c channels of a tap.
 * Consumes `params`, `x` and `y` ([b, 3, h, w] in [0, 1], same shape; big enough for the trunk, see
 * `lpipsTapSizes`). Differentiable in x and y; correct eagerly and under `jit`.
 */
export function runLpips(params: LpipsParams, x: JArray, y: JArray, cfg: LpipsConfig): JArray {
  const b = x.shape[0]!;
  const trunk = lpipsTrunk(cfg);
  let h = np.concatenate([x, y], 0).mul(2).sub(1); // [2b, 3, h, w] in [-1, 1] (normalize=True)
  h = h.sub(params.shift).div(params.scale); // ScalingLayer
  let total: JArray | null = null;
  for (const [k, ops] of trunk.entries()) {
    const convs = params.slices[k]!;
    let next = 0;
    for (const op of ops) {
      if (op.kind === "maxPool") {
        h = lax.reduceWindow(h, (win) => np.max(win), [op.size, op.size], [op.stride, op.stride]); // [2b, c, h', w']
        continue;
      }
      const { weight, bias } = convs[next++]!;
      const p: [number, number] = [op.pad, op.pad];
      h = lax.convGeneralDilated(h, weight, [op.stride, op.stride], [p, p]); // [2b, cout, h', w']
      h = np.maximum(h.add(bias.reshape([1, -1, 1, 1])), 0);
    }
    const f = unitNormalize(k < trunk.length - 1 ? h.ref : h); // [2b, c, hk, wk]; .ref: the next slice goes on from h
    const d = np.square(f.ref.slice([0, b]).sub(f.slice([b, 2 * b]))); // [b, c, hk, wk]
    const layer = np.mean(np.sum(d.mul(params.lins[k]!), 1), [1, 2]); // head [1, c, 1, 1] → [b, hk, wk] → [b]
    total = total ? total.add(layer) : layer;
  }
  return total!;
}

/** LPIPS with its weights loaded. */
export type Lpips = {
  config: LpipsConfig;
  /**
   * Per-image distances [b]. Consumes `x`, `y` [b, 3, h, w] in [0, 1] (same shape; at least 16 × 16 for VGG,
   * 31 × 31 for AlexNet). Differentiable.
   */
  distance(x: JArray, y: JArray): JArray;
  dispose(): void;
};

/** LPIPS from an already decoded file (`loadLpips` reads and decodes one from a path). */
export function lpipsFromSafetensors(file: SafetensorsFile, cfg: LpipsConfig, fileName: string): Lpips {
  const params = lpipsParamsFromSafetensors(file, cfg, fileName);
  return {
    config: cfg,
    distance(x, y) {
      const bad = (problem: string): never => {
        x.dispose();
        y.dispose();
        throw new WildrayzerError(`LPIPS-${cfg.net}: ${problem}`);
      };
      const [, c, h, w] = x.shape;
      if (x.ndim !== 4 || c !== 3) bad(`images must be [b, 3, h, w], got [${x.shape}]`);
      if (y.shape.length !== 4 || y.shape.some((d, i) => d !== x.shape[i])) bad(`the two images differ in shape: [${x.shape}] and [${y.shape}]`);
      if (!lpipsTapSizes(cfg, h!, w!)) bad(`image size ${w}×${h} is too small for the ${cfg.net} trunk`);
      return runLpips(ref(params), x, y, cfg);
    },
    dispose: () => dispose(params),
  };
}

/**
 * Loads LPIPS from one safetensors file (see the header for what it must hold). `widths` defaults to the official
 * trunk. A missing or unreadable file, or tensors that do not match, throw one `WildrayzerError` line.
 */
export function loadLpips(path: string, net: LpipsNet, widths: readonly number[] = LPIPS_WIDTHS[net]): Lpips {
  const bytes = readFileChecked(path, `LPIPS-${net} weights (.safetensors)`);
  return lpipsFromSafetensors(decodeSafetensors(bytes, path), { net, widths }, path);
}
