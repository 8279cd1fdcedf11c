/**
 * Child-process helper for the WebGPU test (jax-js keeps one default device per process): runs a small
 * transformer block forward and its parameter gradient on the device named in argv[2] and prints the numbers
 * as one JSON line.
 */
import "../../src/engine/workerAdapter.ts";
import { grad, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { startEngine, type DeviceKind } from "../../src/engine/backend.ts";
import { initBlock, runBlock, type BlockConfig, type BlockParams } from "../../src/engine/layers.ts";
import { ref } from "../../src/engine/params.ts";
import { makeRng } from "../../src/engine/rng.ts";

const device = process.argv[2] as DeviceKind;
await startEngine({ device });
const cfg: BlockConfig = { d: 32, heads: 2, mlpRatio: 4, eps: 1e-5 };
const rng = makeRng(1);
const x = np.array(Float32Array.from({ length: 2 * 8 * 32 }, () => rng.uniform(-1, 1))).reshape([2, 8, 32]);
const params = initBlock(random.key(0), cfg, 0.1);
const y = runBlock(ref(params), x.ref, cfg);
const loss = (p: BlockParams, input: JArray) => np.mean(np.square(runBlock(p, input, cfg)));
const g = grad(loss)(params, x) as BlockParams;
const out = {
  device,
  y: Array.from((await y.data()) as Float32Array),
  gQkv: Array.from((await g.qkv.weight.data()) as Float32Array),
  gNorm: Array.from((await g.kNorm.weight.data()) as Float32Array),
};
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
