/**
 * `--runtime jax|onnx`, the inference runtime of eval, render and masks: ONNX Runtime (native kernels, the default
 * on the CPU: several times faster than jax-js's wasm forward, BENCHMARKS.md) or jax-js (the default with
 * `--device webgpu`, and the engine training uses). Both give the same renders and cameras to ~1e-7.
 */
import { Option } from "commander";
import type { DeviceKind } from "../engine/backend.ts";
import { RUNTIMES, type Runtime } from "../pipeline/onnxForward.ts";

export function runtimeOption(): Option {
  return new Option("--runtime <kind>", "inference runtime: onnx (ONNX Runtime, native) or jax (jax-js on --device); default onnx on the CPU, jax with --device webgpu").choices(RUNTIMES);
}

/** The runtime a command runs: the flag, else onnx unless a GPU device was asked for. */
export function pickRuntime(flag: Runtime | undefined, device: DeviceKind): Runtime {
  return flag ?? (device === "webgpu" ? "jax" : "onnx");
}
