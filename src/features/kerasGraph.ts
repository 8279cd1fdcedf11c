/**
 * A Keras layers-model (tfjs `modelTopology.model_config`) run in our engine: the layer graph is read from the
 * JSON, weights come from `decodeTfjsWeights`, and the forward pass is jax-js (so it is differentiable with
 * respect to the input and runs on every backend). Supported layers — what ImageNet MobileNets use: InputLayer,
 * ZeroPadding2D, Conv2D, DepthwiseConv2D (no bias or with bias), BatchNormalization (folded into the preceding
 * convolution when it is its only consumer, else applied as scale and shift), ReLU (with `max_value`, so ReLU6),
 * Activation (relu, relu6, linear), Add. Layout is NCHW; Keras kernels (HWIO, depthwise HWC1) are transposed once
 * at load. Padding follows Keras: "valid" none; "same" with stride 1 pads (k − 1) split low-first.
 */
import { lax, numpy as np, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import type { NamedTensor } from "./tfjsWeights.ts";

type LayerJson = { class_name: string; config: Record<string, unknown> & { name: string }; inbound_nodes: unknown };

/** One executable layer of the graph. Conv params are NCHW-ready; `scale`/`shift` are BN applied after. */
export type GraphLayer =
  | { kind: "input"; name: string }
  | { kind: "pad"; name: string; input: string; pad: [[number, number], [number, number]] }
  | { kind: "conv"; name: string; input: string; stride: [number, number]; pad: [[number, number], [number, number]]; groups: number; kernel: JArray; bias: JArray | null }
  | { kind: "affine"; name: string; input: string; scale: JArray; shift: JArray }
  | { kind: "relu"; name: string; input: string; max: number | null }
  | { kind: "add"; name: string; inputs: string[] };

export type KerasGraph = { layers: GraphLayer[]; /** Channels of each layer's output. */ channels: Map<string, number> };

function inbound(l: LayerJson): string[] {
  const nodes = l.inbound_nodes as unknown[][][];
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  return nodes[0]!.map((n) => String(n[0]));
}

/**
 * Builds the graph up to and including layer `last` (later layers are dropped), taking weights by the Keras names
 * `<layer>/kernel`, `<layer>/depthwise_kernel`, `<layer>/bias`, `<layer>/gamma|beta|moving_mean|moving_variance`.
 */
export function buildKerasGraph(topology: unknown, weights: Map<string, NamedTensor>, last: string, source: string): KerasGraph {
  const layersJson = (topology as { model_config?: { config?: { layers?: LayerJson[] } } })?.model_config?.config?.layers;
  if (!Array.isArray(layersJson)) throw new WildrayzerError(`${source}: not a Keras layers-model topology (no model_config.config.layers)`);
  const stop = layersJson.findIndex((l) => l.config.name === last);
  if (stop < 0) throw new WildrayzerError(`${source}: no layer named ${last}`);
  const used = layersJson.slice(0, stop + 1);
  const consumers = new Map<string, number>();
  for (const l of used) for (const i of inbound(l)) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const get = (name: string): NamedTensor => {
    const t = weights.get(name);
    if (!t) throw new WildrayzerError(`${source}: missing weight ${name}`);
    return t;
  };
  const layers: GraphLayer[] = [];
  const channels = new Map<string, number>();
  const byName = new Map<string, GraphLayer>();
  for (const l of used) {
    const name = l.config.name;
    const ins = inbound(l);
    const c = l.config;
    let layer: GraphLayer;
    switch (l.class_name) {
      case "InputLayer": {
        const shape = c.batch_input_shape as (number | null)[];
        layer = { kind: "input", name };
        channels.set(name, Number(shape?.at(-1) ?? 3));
        break;
      }
      case "ZeroPadding2D": {
        const p = c.padding as [[number, number], [number, number]];
        layer = { kind: "pad", name, input: ins[0]!, pad: p };
        channels.set(name, channels.get(ins[0]!)!);
        break;
      }
      case "Conv2D":
      case "DepthwiseConv2D": {
        const depthwise = l.class_name === "DepthwiseConv2D";
        const k = get(`${name}/${depthwise ? "depthwise_kernel" : "kernel"}`); // HWIO or HWC1
        const [kh, kw, cin, cout] = k.shape as [number, number, number, number];
        const stride = (c.strides as [number, number]) ?? [1, 1];
        if (Number((c.depth_multiplier as number | undefined) ?? 1) !== 1) throw new WildrayzerError(`${source}: ${name}: depth_multiplier ≠ 1 is not supported`);
        const pad: [[number, number], [number, number]] =
          c.padding === "valid" ? [[0, 0], [0, 0]] : stride[0] === 1 && stride[1] === 1 ? [[Math.floor((kh - 1) / 2), Math.ceil((kh - 1) / 2)], [Math.floor((kw - 1) / 2), Math.ceil((kw - 1) / 2)]] : unsupported(source, name, "\"same\" padding with stride > 1");
        // HWIO → OIHW; depthwise HWC1 → C 1 H W
        const outC = depthwise ? cin : cout;
        const inPerGroup = depthwise ? 1 : cin;
        const data = new Float32Array(outC * inPerGroup * kh * kw);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) {
          const src = k.data[((y * kw + x) * cin + i) * cout + o]!;
          if (depthwise) data[((i * 1 + 0) * kh + y) * kw + x] = src;
          else data[((o * cin + i) * kh + y) * kw + x] = src;
        }
        const bias = c.use_bias ? get(`${name}/bias`).data : null;
        layer = { kind: "conv", name, input: ins[0]!, stride, pad, groups: depthwise ? cin : 1, kernel: np.array(data).reshape([outC, inPerGroup, kh, kw]), bias: bias ? np.array(bias) : null };
        channels.set(name, outC);
        break;
      }
      case "BatchNormalization": {
        const eps = Number(c.epsilon ?? 1e-3);
        const [g, b, m, v] = ["gamma", "beta", "moving_mean", "moving_variance"].map((s) => get(`${name}/${s}`).data) as Float32Array[];
        const scale = Float32Array.from(v!, (vv, i) => g![i]! / Math.sqrt(vv + eps));
        const shift = Float32Array.from(b!, (bb, i) => bb - m![i]! * scale[i]!);
        const prev = byName.get(ins[0]!);
        if (prev?.kind === "conv" && consumers.get(prev.name) === 1) {
          // fold: conv(x, W)·s + t = conv(x, W·s) + (bias·s + t)
          const oc = scale.length;
          const kernel = prev.kernel.mul(np.array(scale).reshape([oc, 1, 1, 1]));
          const bias = prev.bias ? prev.bias.mul(np.array(scale)).add(np.array(shift)) : np.array(shift);
          layer = { ...prev, name, kernel, bias };
          const idx = layers.indexOf(prev);
          layers.splice(idx, 1);
          byName.delete(prev.name);
        } else {
          layer = { kind: "affine", name, input: ins[0]!, scale: np.array(scale), shift: np.array(shift) };
        }
        channels.set(name, scale.length);
        break;
      }
      case "ReLU":
        layer = { kind: "relu", name, input: ins[0]!, max: c.max_value == null ? null : Number(c.max_value) };
        channels.set(name, channels.get(ins[0]!)!);
        break;
      case "Activation": {
        const act = String(c.activation);
        if (act === "linear") layer = { kind: "relu", name, input: ins[0]!, max: Infinity };
        else if (act === "relu" || act === "relu6") layer = { kind: "relu", name, input: ins[0]!, max: act === "relu6" ? 6 : null };
        else return unsupported(source, name, `activation ${act}`);
        channels.set(name, channels.get(ins[0]!)!);
        break;
      }
      case "Add":
        layer = { kind: "add", name, inputs: ins };
        channels.set(name, channels.get(ins[0]!)!);
        break;
      default:
        return unsupported(source, name, `layer class ${l.class_name}`);
    }
    layers.push(layer);
    byName.set(name, layer);
  }
  return { layers, channels };
}

function unsupported(source: string, name: string, what: string): never {
  throw new WildrayzerError(`${source}: ${name}: ${what} is not supported`);
}

/**
 * Runs the graph on `x` [b, c, h, w] (consumed) and returns the outputs of the layers in `taps` (by name; a folded
 * convolution answers to its BatchNormalization's name). Does not consume the graph's weights.
 */
export function runKerasGraph(graph: KerasGraph, x: JArray, taps: readonly string[]): Map<string, JArray> {
  const values = new Map<string, JArray>();
  const remaining = new Map<string, number>(); // uses left per value (taps count once)
  const inputsOf = (l: GraphLayer) => (l.kind === "input" ? [] : l.kind === "add" ? l.inputs : [l.input]);
  for (const l of graph.layers) for (const i of inputsOf(l)) remaining.set(i, (remaining.get(i) ?? 0) + 1);
  for (const t of taps) remaining.set(t, (remaining.get(t) ?? 0) + 1);
  const take = (name: string): JArray => {
    const v = values.get(name);
    if (!v) throw new Error(`runKerasGraph: ${name} has no value`);
    const left = remaining.get(name)! - 1;
    remaining.set(name, left);
    if (left === 0) {
      values.delete(name);
      return v;
    }
    return v.ref;
  };
  for (const l of graph.layers) {
    let y: JArray;
    switch (l.kind) {
      case "input":
        y = x;
        break;
      case "pad":
        y = np.pad(take(l.input), [[0, 0], [0, 0], l.pad[0], l.pad[1]]);
        break;
      case "conv": {
        y = lax.convGeneralDilated(take(l.input), l.kernel.ref, l.stride, [l.pad[0], l.pad[1]], { featureGroupCount: l.groups });
        if (l.bias) y = y.add(l.bias.ref.reshape([1, -1, 1, 1]));
        break;
      }
      case "affine":
        y = take(l.input).mul(l.scale.ref.reshape([1, -1, 1, 1])).add(l.shift.ref.reshape([1, -1, 1, 1]));
        break;
      case "relu":
        y = l.max === Infinity ? take(l.input) : l.max === null ? np.maximum(take(l.input), 0) : np.clip(take(l.input), 0, l.max);
        break;
      case "add":
        y = l.inputs.map(take).reduce((a, b) => a.add(b));
        break;
    }
    if ((remaining.get(l.name) ?? 0) > 0) values.set(l.name, y);
    else y.dispose();
  }
  const out = new Map<string, JArray>();
  for (const t of taps) {
    if (!values.has(t)) throw new WildrayzerError(`feature tap ${t}: no such layer in the graph`);
    out.set(t, take(t));
  }
  for (const v of values.values()) v.dispose();
  return out;
}

/** Frees the graph's weights. */
export function disposeKerasGraph(graph: KerasGraph): void {
  for (const l of graph.layers) {
    if (l.kind === "conv") {
      l.kernel.dispose();
      l.bias?.dispose();
    } else if (l.kind === "affine") {
      l.scale.dispose();
      l.shift.dispose();
    }
  }
}
