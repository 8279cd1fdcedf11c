/**
 * The WebGPU path runs the same code as wasm and gives the same numbers. On machines without a GPU it uses
 * Dawn's OpenGL ES backend on Mesa's llvmpipe in compatibility mode (docs/ENGINE.md). Skipped, with the reason, when
 * the optional `webgpu` package or an EGL driver is missing.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { assertClose } from "../helpers/engine.ts";

function skipReason(): string | false {
  try {
    createRequire(import.meta.url).resolve("webgpu");
  } catch {
    return "the optional package `webgpu` is not installed";
  }
  if (!["/usr/lib/x86_64-linux-gnu/libEGL.so.1", "/usr/lib/aarch64-linux-gnu/libEGL.so.1"].some(existsSync)) {
    return "no EGL driver (Debian package libegl1 + libgles2 + mesa) for Dawn's OpenGL ES backend";
  }
  return false;
}

type Out = { device: string; y: number[]; gQkv: number[]; gNorm: number[] };

function run(device: string): Out {
  const stdout = execFileSync(
    process.execPath,
    ["--import", "tsx", "--import", "./src/engine/workerAdapter.ts", "test/helpers/deviceRun.ts", device],
    {
      encoding: "utf8",
      env: { ...process.env, WRZ_THREADS: "1", WRZ_WEBGPU_FLAGS: "backend=opengles", WRZ_WEBGPU_COMPAT: "1", EGL_PLATFORM: "surfaceless" },
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 120_000,
    },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as Out;
}

describe("WebGPU", { skip: skipReason() }, () => {
  it("computes a transformer block and its gradient like wasm", () => {
    const wasm = run("wasm");
    const gpu = run("webgpu");
    assert.equal(gpu.device, "webgpu");
    assert.ok(wasm.y.some((v) => Math.abs(v) > 0.1), "the block output is not trivially zero");
    assertClose(gpu.y, wasm.y, 1e-4, 1e-4, "forward");
    assertClose(gpu.gQkv, wasm.gQkv, 1e-5, 1e-3, "qkv gradient");
    assertClose(gpu.gNorm, wasm.gNorm, 1e-5, 1e-3, "k-norm gradient");
  });
});
