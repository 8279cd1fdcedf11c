/**
 * Prints the stage-1 loss and every gradient of the `tiny` model on a fixed batch as one JSON line (a child
 * process for tests that compare engine settings, e.g. relaxed SIMD on and off, which must be set at start-up).
 */
import "../../src/engine/workerAdapter.ts";
import { random, valueAndGrad } from "@jax-js/jax";
import { numpy as np } from "@jax-js/jax";
import { startEngine } from "../../src/engine/backend.ts";
import { namedLeaves } from "../../src/engine/params.ts";
import { relaxedSimd } from "../../src/engine/workerAdapter.ts";
import { initRayZer, type RayZerParams } from "../../src/model/rayzer.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { trainBatch } from "../../src/train/batches.ts";
import { stage1Loss, type Stage1Batch } from "../../src/train/step.ts";

await startEngine({ device: "wasm" });
const run = RUN_PRESETS.tiny;
const host = trainBatch(run, 0);
const params = initRayZer(random.key(11), run.model);
const [loss, grads] = valueAndGrad((p: RayZerParams, b: Stage1Batch) => stage1Loss(p, b, run, true))(params, { images: np.array(host.images).reshape(host.shape) }) as [
  import("@jax-js/jax").Array,
  RayZerParams,
];
const out: Record<string, number[]> = { __loss: Array.from((await loss.data()) as Float32Array) };
for (const [name, g] of namedLeaves(grads)) out[name] = Array.from((await g.data()) as Float32Array);
process.stdout.write(`${JSON.stringify({ relaxedSimd, grads: out })}\n`);
