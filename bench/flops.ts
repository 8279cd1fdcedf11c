/** Analytic FLOP counts shared by the benches (matmuls only). */
import type { BlockConfig } from "../src/engine/layers.ts";

/**
 * Forward FLOPs of one pre-norm transformer block in units of 1e9:
 *   linears    2·b·n·d²·(3 + 1 + 2·r)    qkv (d → 3d), proj (d → d), MLP (d → r·d → d); r = mlpRatio
 *   attention  2·2·b·n²·d                QKᵀ and attn·V, summed over heads
 */
export function blockForwardGflop(b: number, n: number, cfg: BlockConfig): number {
  const linears = 2 * b * n * cfg.d ** 2 * (3 + 1 + 2 * cfg.mlpRatio);
  const attention = 2 * 2 * b * n ** 2 * cfg.d;
  return (linears + attention) / 1e9;
}

/**
 * Convolution FLOPs (2·Cout·Cin/g·kh·kw per output position) of a Keras graph for one h × w image, in units of
 * 1e9, counting only the layers up to the deepest of `taps`.
 */
export function kerasGraphGflop(graph: import("../src/features/kerasGraph.ts").KerasGraph, h: number, w: number): number {
  const size = new Map<string, [number, number]>();
  let flops = 0;
  for (const l of graph.layers) {
    if (l.kind === "input") size.set(l.name, [h, w]);
    else if (l.kind === "pad") {
      const [ih, iw] = size.get(l.input)!;
      size.set(l.name, [ih + l.pad[0][0] + l.pad[0][1], iw + l.pad[1][0] + l.pad[1][1]]);
    } else if (l.kind === "conv") {
      const [ih, iw] = size.get(l.input)!;
      const [o, i, kh, kw] = l.kernel.shape as [number, number, number, number];
      const oh = Math.floor((ih + l.pad[0][0] + l.pad[0][1] - kh) / l.stride[0]) + 1;
      const ow = Math.floor((iw + l.pad[1][0] + l.pad[1][1] - kw) / l.stride[1]) + 1;
      flops += 2 * o * i * kh * kw * oh * ow;
      size.set(l.name, [oh, ow]);
    } else if (l.kind === "add") size.set(l.name, size.get(l.inputs[0]!)!);
    else size.set(l.name, size.get(l.input)!);
  }
  return flops / 1e9;
}
