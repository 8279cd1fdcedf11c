/**
 * Kernel profile of one jitted stage-1 train step of a run preset (default `small`): every kernel jax-js runs is
 * timed through its profiler (performance.measure entries), grouped by kind, and the matmul-like kernels are listed
 * by shape with their GFLOP/s. Run on the main thread so each kernel's time is its own:
 *   WRZ_NO_WORKERS=1 node --import tsx --import ./src/engine/workerAdapter.ts bench/profile.ts [preset] [key=value ...]
 */
import "../src/engine/workerAdapter.ts";
import { PerformanceObserver } from "node:perf_hooks";
import { numpy as np, profiler, random } from "@jax-js/jax";
import { startEngine } from "../src/engine/backend.ts";
import { initAdamW } from "../src/engine/optim.ts";
import { dispose } from "../src/engine/params.ts";
import { initRayZer } from "../src/model/rayzer.ts";
import { resolveRunConfig } from "../src/train/config.ts";
import { trainBatch } from "../src/train/batches.ts";
import { makeStage1Steps } from "../src/train/step.ts";

type Acc = { ms: number; n: number; flop: number };

await startEngine();
const [preset = "small", ...overrides] = process.argv.slice(2);
const run = resolveRunConfig(preset, overrides);
const host = trainBatch(run, 0);
const params = initRayZer(random.key(0), run.model);
const steps = makeStage1Steps(run);
let state = { params, opt: initAdamW(params) };
const step = async () => {
  const [next, m] = steps.plain(state, { images: np.array(host.images).reshape(host.shape) });
  state = next;
  await m.loss.data();
  dispose([m.gradNorm, m.lr]);
};
await step(); // trace and compile
await step();

const byKind = new Map<string, Acc>();
const byMatmul = new Map<string, Acc>();
const add = (map: Map<string, Acc>, key: string, ms: number, flop: number) => {
  const a = map.get(key) ?? { ms: 0, n: 0, flop: 0 };
  a.ms += ms;
  a.n++;
  a.flop += flop;
  map.set(key, a);
};
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.entryType !== "measure") continue;
    const props = Object.fromEntries(((e as unknown as { detail?: { devtools?: { properties?: [string, string][] } } }).detail?.devtools?.properties ?? []));
    const exp = String(props.exp ?? "");
    const [reduce, len] = String(props.reduction ?? "").split(":");
    const matmul = reduce === "Add" && exp.includes("*") && Number(props.nargs) >= 2;
    const kind = matmul ? "matmul-like" : reduce ? `reduce ${reduce}` : exp.includes("Erfc") ? "erfc (GELU)" : exp.includes("Exp") ? "exp" : "elementwise";
    const flop = matmul ? 2 * Number(props.size) * Number(len) : 0;
    add(byKind, kind, e.duration, flop);
    if (matmul) add(byMatmul, `[${(exp.match(/\{([0-9,]+):/) ?? [])[1] ?? "?"}] reduce ${len}`, e.duration, flop);
  }
});
observer.observe({ entryTypes: ["measure"] });
profiler.startTrace();
const t0 = performance.now();
await step();
const wall = performance.now() - t0;
profiler.stopTrace();
await new Promise((r) => setTimeout(r, 100));
observer.disconnect();

const total = [...byKind.values()].reduce((s, a) => s + a.ms, 0);
console.log(`${preset} train step: wall ${wall.toFixed(0)} ms, kernel time ${total.toFixed(0)} ms`);
console.log("\n| kind | kernels | ms | share |\n|---|--:|--:|--:|");
for (const [k, a] of [...byKind].sort((x, y) => y[1].ms - x[1].ms)) console.log(`| ${k} | ${a.n} | ${a.ms.toFixed(0)} | ${((100 * a.ms) / total).toFixed(0)}% |`);
console.log("\n| matmul-like kernel (output+reduce shape) | calls | ms | GFLOP/s |\n|---|--:|--:|--:|");
for (const [k, a] of [...byMatmul].sort((x, y) => y[1].ms - x[1].ms).slice(0, 12)) console.log(`| ${k} | ${a.n} | ${a.ms.toFixed(0)} | ${(a.flop / a.ms / 1e6).toFixed(1)} |`);
process.exit(0);
