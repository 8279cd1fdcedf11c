/**
 * The paper-size forward of the official WildRayZer (or RayZer) config on the CPU, from a `.pt` file: writes
 * seeded random weights of the exact official config as a PyTorch checkpoint (a stored zip with `data.pkl` and one
 * storage per tensor, as `torch.save` lays it out; the real released file cannot be fetched here), loads it through
 * the safe reader and the official key mapping (no random initialisation), and times one jitted 2 + 6 forward
 * (cameras for all views, renders of the targets). Prints one JSON line and a Markdown row for BENCHMARKS.md.
 *
 *   node --import tsx --import ./src/engine/workerAdapter.ts bench/official.ts [--preset official-wildrayzer-2view]
 *       [--file /tmp/wrz-official.pt] [--dtype f32|f16] [--reps 2] [--chunk 1] [--one-graph]
 *
 * The forward is pipeline/forward.ts `makeStagedForward` (cameras, scene, `--chunk` targets at a time);
 * `--one-graph` tries the single jitted graph instead (it exceeds wasm's 4 GiB at this size). `--blocks` times one
 * transformer block of each stack at its real sequence length instead of the whole forward (CPU seconds are
 * robust to other processes on a shared machine; the staged forward is those blocks times the layer counts, plus
 * the small tokenizer / head steps) and records the wasm heap's high-water mark.
 *
 * Values: linear weights uniform with std 0.02, norm weights 1, biases 0, `scene_code`/`cam_code`/`noise_token`
 * std 0.02 (so activations stay in range like a trained model's). The file is reused when it exists.
 */
import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import { zipEnd, zipEntryHeaders } from "../test/helpers/zip.ts";
import { startEngine } from "../src/engine/backend.ts";
import { makeRng } from "../src/engine/rng.ts";
import { dispose, ref } from "../src/engine/params.ts";
import { floatToHalf } from "../src/engine/safetensors.ts";
import { MODEL_PRESETS, blockConfig, type ModelConfig } from "../src/model/config.ts";
import { officialKeyMap } from "../src/model/official.ts";
import { loadAnyModel } from "../src/model/officialFile.ts";
import { makeForward, makeStagedForward } from "../src/pipeline/forward.ts";
import { blockUntilReady, jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { runBlock, type BlockParams } from "../src/engine/layers.ts";
import type { RayZerParams } from "../src/model/rayzer.ts";

type Args = { preset: "official-wildrayzer-2view" | "official-rayzer-dl3dv"; file: string; dtype: "f32" | "f16"; reps: number; oneGraph: boolean; chunk: number; blocks: boolean };

function parseArgs(argv: string[]): Args {
  const a: Args = { preset: "official-wildrayzer-2view", file: "", dtype: "f32", reps: 2, oneGraph: false, chunk: 1, blocks: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--one-graph" || flag === "--blocks") {
      if (flag === "--one-graph") a.oneGraph = true;
      else a.blocks = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--preset") a.preset = v as Args["preset"];
    else if (flag === "--file") a.file = v;
    else if (flag === "--dtype") a.dtype = v as Args["dtype"];
    else if (flag === "--reps") a.reps = Number(v);
    else if (flag === "--chunk") a.chunk = Number(v);
    else throw new Error(`unknown option ${flag}`);
  }
  if (!a.file) a.file = `/tmp/wrz-${a.preset}-${a.dtype}.pt`;
  return a;
}

/** The official state dict's tensors for `cfg`: key, official shape and how to fill it. */
function officialTensors(cfg: ModelConfig): { key: string; shape: number[]; kind: "weight" | "ones" | "zeros" }[] {
  return officialKeyMap(cfg).map((m) => {
    const shape = m.official === "noise_token" ? [1, 1, cfg.d] : m.transpose ? [m.shape[1]!, m.shape[0]!] : m.shape;
    const isNorm = /norm|decoder_ln|mlp_fuse\.0|image_token_decoder\.0/.test(m.official) && shape.length === 1;
    const kind = m.official.endsWith(".bias") ? "zeros" : isNorm ? "ones" : "weight";
    return { key: m.official, shape, kind };
  });
}

/** Writes a torch.save-layout checkpoint `{"model": OrderedDict(...)}` (stored zip, storages 64-byte aligned). */
function writeTorchCheckpoint(path: string, cfg: ModelConfig, dtype: "f32" | "f16", seed: number): void {
  const tensors = officialTensors(cfg);
  const rng = makeRng(seed);
  const fd = openSync(path, "w");
  const central: Buffer[] = [];
  let offset = 0;
  const write = (b: Uint8Array) => {
    writeSync(fd, b);
    offset += b.length;
  };
  const entry = (name: string, data: Uint8Array) => {
    // pad the local header's extra field so the data starts 64-byte aligned (torch does the same)
    const n = Buffer.from(name);
    const extraLen = (64 - ((offset + 30 + n.length + 4) % 64)) % 64 + 4;
    const extra = Buffer.alloc(extraLen);
    extra.writeUInt16LE(0xcafe, 0); // private tag, as torch's writer uses for its padding
    extra.writeUInt16LE(extraLen - 4, 2);
    const { local, central: record } = zipEntryHeaders(n, data, offset, extraLen);
    central.push(record);
    write(local);
    write(extra);
    write(data);
  };
  const pkl = picklePt(tensors.map((t, i) => ({ key: t.key, storage: String(i), shape: t.shape })), dtype === "f16" ? "HalfStorage" : "FloatStorage");
  entry("archive/data.pkl", pkl);
  tensors.forEach((t, i) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(numel);
    if (t.kind === "ones") values.fill(1);
    else if (t.kind === "weight") for (let j = 0; j < numel; j++) values[j] = rng.uniform(-0.0346, 0.0346); // std 0.02
    const bytes = dtype === "f16" ? new Uint8Array(Uint16Array.from(values, floatToHalf).buffer) : new Uint8Array(values.buffer);
    entry(`archive/data/${i}`, bytes);
  });
  entry("archive/version", Buffer.from("3\n"));
  const cd = Buffer.concat(central);
  const end = zipEnd(central.length, cd.length, offset);
  write(cd);
  write(end);
  closeSync(fd);
}

/** Protocol-2 pickle of `{"model": OrderedDict{key: _rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict())}}`. */
function picklePt(tensors: { key: string; storage: string; shape: number[] }[], storageClass: string): Uint8Array {
  const parts: Buffer[] = [];
  const op = (...b: number[]) => parts.push(Buffer.from(b));
  const str = (s: string) => {
    const b = Buffer.from(s);
    const h = Buffer.alloc(5);
    h[0] = 0x58;
    h.writeUInt32LE(b.length, 1);
    parts.push(h, b);
  };
  const int = (v: number) => {
    const h = Buffer.alloc(5);
    h[0] = 0x4a;
    h.writeInt32LE(v, 1);
    parts.push(h);
  };
  const global = (m: string, n: string) => parts.push(Buffer.from(`c${m}\n${n}\n`, "latin1"));
  op(0x80, 2, 0x7d);
  str("model");
  global("collections", "OrderedDict");
  op(0x29, 0x52);
  for (const t of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    str(t.key);
    global("torch._utils", "_rebuild_tensor_v2");
    op(0x28, 0x28);
    str("storage");
    global("torch", storageClass);
    str(t.storage);
    str("cpu");
    int(numel);
    op(0x74, 0x51);
    int(0);
    op(0x28);
    t.shape.forEach(int);
    op(0x74, 0x28);
    stride.forEach(int);
    op(0x74, 0x89);
    global("collections", "OrderedDict");
    op(0x29, 0x52, 0x74, 0x52, 0x73);
  }
  op(0x73, 0x2e);
  return new Uint8Array(Buffer.concat(parts));
}

/** wasm heap size, tracked by wrapping `WebAssembly.Memory.prototype.grow` (jax-js's allocator never shrinks it). */
let wasmBytes = 0;
const grow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function (this: WebAssembly.Memory, pages: number) {
  const r = grow.call(this, pages);
  wasmBytes = Math.max(wasmBytes, this.buffer.byteLength);
  return r;
};

/** One block per stack at the staged forward's shapes: camera v + v·n, scene S + K·n, renderer n + S (one target). */
async function timeBlocks(params: RayZerParams, cfg: ModelConfig, info: { writeS: number; loadS: number; rssAfterLoad: number; file: string; dtype: string }): Promise<void> {
  const n = (cfg.imageSize / cfg.patch) ** 2;
  const bc = blockConfig(cfg);
  const block = jit((p: BlockParams, x: JArray) => runBlock(p, x, bc));
  const shapes = [
    { stack: "camera", tokens: cfg.views * (1 + n), layers: cfg.layers.camera, calls: 1, p: params.cameraEstimator.blocks[0]! },
    { stack: "scene", tokens: cfg.sceneTokens + cfg.inputViews * n, layers: cfg.layers.encoder, calls: 1, p: params.sceneEncoder.blocks[0]! },
    { stack: "renderer", tokens: n + cfg.sceneTokens, layers: cfg.layers.renderer, calls: cfg.views - cfg.inputViews, p: params.renderer.blocks[0]! },
  ];
  const rows: { stack: string; tokens: number; layers: number; calls: number; wallS: number; cpuS: number }[] = [];
  const rng = makeRng(9);
  for (const s of shapes) {
    const x = () => np.array(Float32Array.from({ length: s.tokens * cfg.d }, () => rng.uniform(-1, 1))).reshape([1, s.tokens, cfg.d]);
    await blockUntilReady(block(ref(s.p), x()) as JArray).then((y) => y.dispose()); // compile
    const xs = x();
    await blockUntilReady(xs);
    const t = performance.now();
    const c = process.cpuUsage();
    const y = block(ref(s.p), xs) as JArray;
    await blockUntilReady(y);
    const wall = (performance.now() - t) / 1000;
    const dc = process.cpuUsage(c);
    y.dispose();
    rows.push({ stack: s.stack, tokens: s.tokens, layers: s.layers, calls: s.calls, wallS: Number(wall.toFixed(2)), cpuS: Number(((dc.user + dc.system) / 1e6).toFixed(2)) });
  }
  block.dispose();
  dispose(params);
  const total = (k: "wallS" | "cpuS") => rows.reduce((acc, r) => acc + r[k] * r.layers * r.calls, 0);
  const out = {
    ...info,
    rssAfterLoadMB: Math.round(info.rssAfterLoad / 2 ** 20),
    peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / 2 ** 20),
    wasmHeapMB: Math.round(wasmBytes / 2 ** 20),
    threads: Number(process.env.WRZ_THREADS ?? 0) || "all",
    loadAvg: os.loadavg().map((v) => Number(v.toFixed(1))),
    blocks: rows,
    forwardBlocksWallS: Number(total("wallS").toFixed(1)),
    forwardBlocksCpuS: Number(total("cpuS").toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cfg = MODEL_PRESETS[args.preset];
  const t0 = performance.now();
  if (!existsSync(args.file)) writeTorchCheckpoint(args.file, cfg, args.dtype, 1);
  const writeS = (performance.now() - t0) / 1000;
  await startEngine({ device: "wasm" });
  const t1 = performance.now();
  const { params, meta } = await loadAnyModel(args.file, {}, { preset: args.preset });
  const loadS = (performance.now() - t1) / 1000;
  const rssAfterLoad = process.memoryUsage().rss;
  const v = cfg.views;
  const shape: [number, number, number, number, number] = [1, v, 3, cfg.imageSize, cfg.imageSize];
  const rng = makeRng(3);
  const images = Float32Array.from({ length: v * 3 * cfg.imageSize ** 2 }, () => rng.uniform(0, 1));
  if (args.blocks) {
    await timeBlocks(params, meta.model, { writeS, loadS, rssAfterLoad, file: args.file, dtype: args.dtype });
    return;
  }
  const forward = args.oneGraph ? makeForward(meta.model) : makeStagedForward(meta.model, { chunk: args.chunk });
  const times: number[] = [];
  const cpu: number[] = [];
  let finite = true;
  let focal = 0;
  for (let r = 0; r < args.reps; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const out = await forward.estimate(params, images, shape);
    times.push((performance.now() - t) / 1000);
    const dc = process.cpuUsage(c);
    cpu.push((dc.user + dc.system) / 1e6);
    finite &&= out.renders.every(Number.isFinite) && out.c2w.every(Number.isFinite);
    focal = out.fxfycxcy[0]!;
  }
  forward.dispose();
  dispose(params);
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const row = {
    preset: args.preset,
    storage: args.dtype,
    forward: args.oneGraph ? "one graph" : `staged, ${args.chunk} target${args.chunk > 1 ? "s" : ""} per call`,
    fileMB: Math.round(statSync(args.file).size / 1e6),
    views: `${cfg.inputViews} + ${v - cfg.inputViews}`,
    threads: Number(process.env.WRZ_THREADS ?? 0) || "all",
    writeS: Number(writeS.toFixed(1)),
    loadS: Number(loadS.toFixed(1)),
    forwardS: times.map((t) => Number(t.toFixed(1))),
    forwardCpuS: cpu.map((t) => Number(t.toFixed(1))),
    loadAvg: os.loadavg().map((x) => Number(x.toFixed(1))),
    rssAfterLoadMB: Math.round(rssAfterLoad / 2 ** 20),
    peakRssMB: Math.round(peakRss / 2 ** 20),
    finite,
    focal,
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  process.stdout.write(`| ${row.preset} | ${row.forward} | ${row.storage} | ${row.fileMB} MB | ${row.views} | ${row.threads} | ${row.loadS} s | ${row.forwardS.join(" / ")} s | ${row.forwardCpuS.join(" / ")} s | ${row.peakRssMB} MiB | ${row.loadAvg[0]} |\n`);
}

await main();
