/**
 * A stack of pre-norm QK-norm transformer blocks (engine/layers.ts) with the official depth-scaled init: the
 * i-th block's linears (0-based, counted per stack) start from N(0, 0.02 / √(2(i+1))) (docs/METHOD.md §2.3). No final
 * norm. Reference: LVSM / wild-rayzer `model/transformer.py`.
 */
import { random, type Array as JArray } from "@jax-js/jax";
import { initBlock, runBlock, type BlockConfig, type BlockParams } from "../engine/layers.ts";

export type StackParams = BlockParams[];

/** `layers` blocks with depth-scaled init. Consumes `key`. */
export function initStack(key: JArray, cfg: BlockConfig, layers: number): StackParams {
  const keys = random.split(key, layers) as unknown as JArray[];
  return [...keys].map((k, i) => initBlock(k, cfg, 0.02 / Math.sqrt(2 * (i + 1))));
}

/** Runs the blocks in order. Consumes `params` and `x` [b, n, d]; returns [b, n, d]. */
export function runStack(params: StackParams, x: JArray, cfg: BlockConfig): JArray {
  for (const block of params) x = runBlock(block, x, cfg);
  return x;
}
