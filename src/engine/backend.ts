/**
 * Engine start-up in one place: the Node worker adapter (imported first, so jax-js sizes its worker pool from our
 * thread count), the only `init()` call, and the device choice. `wasm` (default) runs everywhere; `webgpu` uses
 * the browser's GPU, or in Node the optional `webgpu` package (Dawn); `cpu` is jax-js's plain-JS reference
 * backend (slow; for debugging). Asking for WebGPU where there is none is a user error that says what to do.
 */
import { engineThreads } from "./workerAdapter.ts";
import { init, defaultDevice } from "@jax-js/jax";
import { WildrayzerError } from "./errors.ts";

export type DeviceKind = "wasm" | "webgpu" | "cpu";
export const DEVICE_KINDS: readonly DeviceKind[] = ["wasm", "webgpu", "cpu"];

export type EngineInfo = {
  device: DeviceKind;
  /** Worker threads of the wasm backend (1 = main thread only). */
  threads: number;
  /** The jax-js version the package pins. */
  jaxVersion: string;
  /** A human-readable adapter description for WebGPU, else "". */
  adapter: string;
};

export const JAX_VERSION = "0.1.25";

let started: EngineInfo | null = null;

/**
 * Starts jax-js once per process on `device` and makes it the default. Later calls with the same device return
 * the same info; a different device is an error (jax-js keeps one default device per process).
 */
export async function startEngine(options: { device?: DeviceKind } = {}): Promise<EngineInfo> {
  const device = options.device ?? "wasm";
  if (started) {
    if (started.device !== device) {
      throw new WildrayzerError(`engine already started on ${started.device}; cannot switch to ${device} in one process`);
    }
    return started;
  }
  let adapter = "";
  if (device === "webgpu") adapter = await prepareWebGpu();
  const ok = await init(device);
  if (!ok.includes(device)) {
    throw new WildrayzerError(
      device === "webgpu"
        ? "--device webgpu: jax-js could not start WebGPU on this machine; use --device wasm"
        : `--device ${device}: jax-js could not start this backend`,
    );
  }
  defaultDevice(device);
  started = { device, threads: device === "wasm" ? engineThreads : 1, jaxVersion: JAX_VERSION, adapter };
  return started;
}

type GpuLike = { requestAdapter(options?: Record<string, unknown>): Promise<unknown> };

/** In Node, installs `navigator.gpu` from the optional `webgpu` package; in a browser, checks `navigator.gpu`. */
async function prepareWebGpu(): Promise<string> {
  const g = globalThis as Record<string, unknown>;
  const nav = g.navigator as { gpu?: GpuLike } | undefined;
  const isNode = (g.process as NodeJS.Process | undefined)?.versions?.node !== undefined;
  if (!isNode) {
    if (!nav?.gpu) throw new WildrayzerError("--device webgpu: this browser has no WebGPU (navigator.gpu); use --device wasm");
    return "browser";
  }
  let mod: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
  try {
    mod = (await import("webgpu" as string)) as typeof mod;
  } catch {
    throw new WildrayzerError("--device webgpu: the optional package `webgpu` is not installed (npm install webgpu); use --device wasm");
  }
  const flags = (process.env.WRZ_WEBGPU_FLAGS ?? "").split(",").filter((s) => s !== "");
  if (process.platform === "linux" && flags.length === 0 && !hasVulkanLoader()) {
    // Dawn would print a native warning and find nothing; say what to do instead.
    throw new WildrayzerError(
      "--device webgpu: no Vulkan driver on this machine (libvulkan.so.1 not found); for Mesa's CPU renderer set WRZ_WEBGPU_FLAGS=backend=opengles WRZ_WEBGPU_COMPAT=1 EGL_PLATFORM=surfaceless, or use --device wasm",
    );
  }
  Object.assign(globalThis, mod.globals);
  // A real GPU takes Dawn's default backend (flags empty); a CPU-only machine can use OpenGL ES on llvmpipe.
  const created = mod.create(flags);
  // jax-js requests its own adapter ({ powerPreference }); compatibility mode must be added to that request.
  const compat = process.env.WRZ_WEBGPU_COMPAT === "1";
  const gpu: GpuLike = compat
    ? { requestAdapter: (o?: Record<string, unknown>) => created.requestAdapter({ ...o, featureLevel: "compatibility" }) }
    : created;
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new WildrayzerError(
      "--device webgpu: no WebGPU adapter found on this machine (try WRZ_WEBGPU_FLAGS=backend=opengles WRZ_WEBGPU_COMPAT=1 on a CPU machine); use --device wasm",
    );
  }
  g.navigator = { ...(nav ?? {}), gpu, userAgent: "Node.js", hardwareConcurrency: engineThreads };
  const info = (adapter as unknown as { info?: { vendor?: string; description?: string } }).info;
  return [info?.vendor, info?.description].filter(Boolean).join(" ") || "webgpu";
}

/** Whether the Vulkan loader Dawn needs on Linux is installed (checked in the usual library folders). */
function hasVulkanLoader(): boolean {
  const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
  const dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/local/lib"];
  return dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`));
}

/** The engine info if started, else null. */
export function engineInfo(): EngineInfo | null {
  return started;
}
