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
