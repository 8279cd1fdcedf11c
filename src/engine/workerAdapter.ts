/**
 * Node start-up shim for jax-js's wasm worker pool. Import this module before `@jax-js/jax` anywhere in a
 * program: jax-js builds its wasm backend (and sizes its worker pool from `navigator.hardwareConcurrency`)
 * when it is first imported, and starts worker threads only if a web `Worker` class exists. Node has no web
 * `Worker`, and jax-js creates workers from `blob:` URLs, which `node:worker_threads` cannot open. This module
 * installs a `Worker` with the web shape (`onmessage`, `postMessage`, `terminate`) that resolves the blob on
 * the main thread and runs its text inside a `worker_threads` Worker (see docs/ENGINE.md, "Threads in Node").
 *
 * Thread count: `WRZ_THREADS` if set (the CLI maps `--threads` onto it before importing anything), else the
 * number of available cores. `WRZ_NO_WORKERS=1` installs nothing, so jax-js runs every kernel on the main thread
 * (a profiling baseline: no message passing at all). In a browser (a real `Worker` exists) this module does nothing.
 */

type NodeWorker = import("node:worker_threads").Worker;

/**
 * Whether wasm relaxed SIMD is on. Node 20's V8 ships it behind a flag; jax-js probes for it and then emits
 * `f32x4.relaxed_madd` (a fused multiply-add on x86 with FMA) in its matmul and reduction kernels. We set the flag
 * here, before jax-js compiles anything; V8 flags are process-wide, so the worker threads get it too.
 * `WRZ_NO_RELAXED_SIMD=1` leaves it off (for A/B timing; results differ only in rounding).
 */
export const relaxedSimd: boolean = enableRelaxedSimd();

function enableRelaxedSimd(): boolean {
  const proc = (globalThis as Record<string, unknown>).process as NodeJS.Process | undefined;
  if (proc?.versions?.node === undefined || proc.env.WRZ_NO_RELAXED_SIMD === "1") return false;
  const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);
  if (WebAssembly.validate(probe)) return true; // already on (a newer Node)
  const v8 = proc.getBuiltinModule?.("node:v8") as typeof import("node:v8") | undefined;
  if (!v8) return false;
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  return WebAssembly.validate(probe);
}

/** jax-js's shared wasm memory, captured from the pool's "init" message (null before the first kernel runs). */
let wasmMemory: WebAssembly.Memory | null = null;

/**
 * Bytes of jax-js's wasm heap (params, optimiser state and activations all live here, up to 4 GiB). The heap
 * only grows, so steady growth across identical steps means arrays are leaking. 0 before the first kernel.
 */
export function wasmHeapBytes(): number {
  return wasmMemory?.buffer.byteLength ?? 0;
}

let messages = 0;

/** Messages posted to jax-js's workers so far: one per kernel chunk dispatched (a profiling counter). */
export function workerMessageCount(): number {
  return messages;
}

/** The thread count jax-js was (or will be) started with; set once, here. */
export const engineThreads: number = installWorkerAdapter();

function installWorkerAdapter(): number {
  const g = globalThis as Record<string, unknown>;
  const proc = g.process as NodeJS.Process | undefined;
  const isNode = proc?.versions?.node !== undefined;
  if (!isNode || typeof g.Worker === "function" || proc.env.WRZ_NO_WORKERS === "1") {
    const nav = g.navigator as { hardwareConcurrency?: number } | undefined;
    return nav?.hardwareConcurrency ?? 1;
  }
  const os = proc.getBuiltinModule("node:os") as typeof import("node:os");
  const wt = proc.getBuiltinModule("node:worker_threads") as typeof import("node:worker_threads");
  const buffer = proc.getBuiltinModule("node:buffer") as typeof import("node:buffer");
  const threads = resolveThreads(proc.env.WRZ_THREADS, os.availableParallelism());

  // The boot script runs inside each worker thread: it gives the jax-js worker source the web globals it uses.
  const boot = `
    const { parentPort, workerData } = require("node:worker_threads");
    globalThis.self = globalThis;
    globalThis.postMessage = (msg) => parentPort.postMessage(msg);
    parentPort.on("message", (data) => globalThis.self.onmessage && globalThis.self.onmessage({ data }));
    workerData.blob.text().then((src) => { (0, eval)(src); parentPort.postMessage({ __booted: true }); });
  `;

  class NodeWebWorker {
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onerror: ((e: { message: string }) => void) | null = null;
    #worker: NodeWorker;
    #booted = false;
    #pending: unknown[] = [];
    /** Messages posted and not yet answered: jax-js answers each message with exactly one reply. */
    #inFlight = 0;

    constructor(url: string | URL) {
      const blob = buffer.resolveObjectURL(String(url));
      if (!blob) throw new Error(`wildrayzer worker adapter: cannot resolve ${String(url)}`);
      this.#worker = new wt.Worker(boot, { eval: true, workerData: { blob } });
      this.#worker.on("message", (data: unknown) => {
        if (!this.#booted && (data as { __booted?: boolean } | null)?.__booted) {
          this.#booted = true;
          for (const msg of this.#pending.splice(0)) this.#worker.postMessage(msg);
          return;
        }
        // A reply: once nothing is outstanding, let the process exit even though the thread lives on.
        if (--this.#inFlight === 0) this.#worker.unref();
        this.onmessage?.({ data });
      });
      this.#worker.on("error", (err: Error) => this.onerror?.({ message: err.message }));
      this.#worker.unref(); // idle workers must not keep the process alive; posting work refs it again
    }

    postMessage(msg: unknown): void {
      messages++;
      const m = msg as { type?: string; memory?: WebAssembly.Memory } | null;
      if (m?.type === "init" && m.memory) wasmMemory = m.memory;
      // While a reply is awaited the worker keeps the process alive (an awaited `data()` must not be cut off).
      if (this.#inFlight++ === 0) this.#worker.ref();
      // Messages sent before the worker evaluated jax-js's source would reach no handler: queue them.
      if (this.#booted) this.#worker.postMessage(msg);
      else this.#pending.push(msg);
    }

    terminate(): void {
      void this.#worker.terminate();
    }
  }

  g.Worker = NodeWebWorker;
  const nav = (g.navigator ?? {}) as Record<string, unknown>;
  try {
    Object.defineProperty(nav, "hardwareConcurrency", { value: threads, configurable: true });
  } catch {
    // Some runtimes expose a read-only navigator: fall back to a plain object below.
  }
  if (nav.hardwareConcurrency !== threads) {
    g.navigator = { ...nav, hardwareConcurrency: threads, userAgent: "Node.js" };
  } else if (g.navigator === undefined) {
    g.navigator = nav;
  }
  return threads;
}

/** `WRZ_THREADS` (a positive integer) or the core count; a bad value falls back to the core count. */
export function resolveThreads(env: string | undefined, cores: number): number {
  if (env === undefined || env.trim() === "") return Math.max(1, cores);
  const n = Number(env);
  return Number.isInteger(n) && n >= 1 ? n : Math.max(1, cores);
}
