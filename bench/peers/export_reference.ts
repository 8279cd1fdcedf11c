/**
 * Reference numbers for the PyTorch peer's parity check (bench/peers/README.md): the `small` RayZer's params
 * (key 0), a fixed batch, the jax-js forward (predicted cameras, the 2 rendered targets, the stage-1 MSE) and one
 * jitted stage-1 train step (loss, gradient norm, learning rate, and the params after the step). Written as one
 * file: a little-endian u32 header length, a JSON header `{ entries: [{ name, shape, offset }] }`, then float32 data.
 *
 *   WRZ_THREADS=1 node --import tsx --import ./src/engine/workerAdapter.ts bench/peers/export_reference.ts out.bin [batch]
 *   /usr/bin/python3 bench/peers/rayzer_small.py --check out.bin
 */
import { writeFileSync } from "node:fs";
import { numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { initAdamW, type TrainState } from "../../src/engine/optim.ts";
import { namedLeaves, ref } from "../../src/engine/params.ts";
import { initRayZer, runRayZer, type RayZerParams } from "../../src/model/rayzer.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { makeStage1Steps, renderedViews, stage1Loss } from "../../src/train/step.ts";

const out = process.argv[2] ?? "/tmp/rayzer_small_ref.bin";
const b = Number(process.argv[3] ?? 2);
const RUN = RUN_PRESETS.small;
const M = RUN.model;
const { views: v, imageSize: s } = M;

// A smooth deterministic batch that the Python side can also rebuild; stored anyway.
const host = new Float32Array(b * v * 3 * s * s);
for (let i = 0; i < host.length; i++) host[i] = 0.5 + 0.45 * Math.sin(0.37 * i + 0.011 * (i % 97) * (i % 13));
const shape = [b, v, 3, s, s];

const entries: { name: string; shape: number[]; offset: number }[] = [];
const chunks: Float32Array[] = [];
let offset = 0;
async function put(name: string, a: JArray | Float32Array, shp?: number[]): Promise<void> {
  const data = a instanceof Float32Array ? a : ((await a.data()) as Float32Array);
  entries.push({ name, shape: shp ?? (a as JArray).shape, offset });
  chunks.push(Float32Array.from(data));
  offset += data.length;
}

const params = initRayZer(random.key(0), M);
for (const [name, leaf] of namedLeaves(params)) await put(`param.${name}`, leaf.ref);
await put("images", host, shape);

const render = renderedViews(RUN, false); // [2, 3]
const fwd = runRayZer(ref(params), np.array(host).reshape(shape), M, { render });
await put("forward.c2w", fwd.cameras.c2w);
await put("forward.fxfycxcy", fwd.cameras.fxfycxcy);
await put("forward.renders", fwd.renders);
await put("forward.loss", stage1Loss(ref(params), { images: np.array(host).reshape(shape) }, RUN, false));

const steps = makeStage1Steps(RUN);
const state: TrainState<RayZerParams> = { params, opt: initAdamW(params) };
const [next, metrics] = steps.plain(state, { images: np.array(host).reshape(shape) });
await put("step.loss", metrics.loss);
await put("step.gradNorm", metrics.gradNorm);
await put("step.lr", metrics.lr);
for (const [name, leaf] of namedLeaves(next.params)) await put(`after.${name}`, leaf);

const header = new TextEncoder().encode(JSON.stringify({ preset: "small", batch: b, render, entries }));
const len = new Uint8Array(4);
new DataView(len.buffer).setUint32(0, header.length, true);
const body = new Uint8Array(offset * 4);
let at = 0;
for (const c of chunks) {
  body.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
  at += c.byteLength;
}
writeFileSync(out, Buffer.concat([len, header, body]));
console.log(`wrote ${out}: ${entries.length} arrays, ${offset} floats`);
process.exit(0);
