/**
 * `wildrayzer info`: what this installation is: package version, engine device and backend, worker threads,
 * the jax-js version, Node's version and the model presets available. `--json` prints the same as one JSON
 * object for scripts. Starting the engine here also checks that the chosen `--device` works.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { relaxedSimd } from "../engine/workerAdapter.ts";
import { startEngine, type EngineInfo } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { abstractParamCount } from "../engine/params.ts";
import { MODEL_PRESETS, type ModelConfig, type ModelPreset } from "../model/config.ts";
import { initRayZer } from "../model/rayzer.ts";
import type { GlobalOptions } from "./globals.ts";

export type InfoReport = {
  version: string;
  device: EngineInfo["device"];
  backend: string;
  threads: number;
  jaxVersion: string;
  node: string;
  /** RayZer model presets with their sizes. */
  models: ModelSummary[];
};

export type ModelSummary = { preset: string; params: number; imageSize: number; patch: number; d: number; layers: string; sceneTokens: number };

/** A preset's size at a glance; the parameter count is traced abstractly (no memory). */
export function modelSummary(preset: string, cfg: ModelConfig): ModelSummary {
  const params = abstractParamCount((k) => initRayZer(k, cfg));
  const { camera, encoder, renderer } = cfg.layers;
  return { preset, params, imageSize: cfg.imageSize, patch: cfg.patch, d: cfg.d, layers: `${camera}+${encoder}+${renderer}`, sceneTokens: cfg.sceneTokens };
}

function presetNames(): string[] {
  return Object.keys(MODEL_PRESETS);
}

/** The `version` field of this package's package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Starts the engine on `device` and describes the installation. */
export async function infoReport(device: GlobalOptions["device"], preset?: string): Promise<InfoReport> {
  if (preset !== undefined && !presetNames().includes(preset)) {
    throw new WildrayzerError(`--preset ${preset}: unknown model preset (choose from ${presetNames().join(", ")})`);
  }
  const engine = await startEngine({ device });
  const names = preset === undefined ? presetNames() : [preset];
  return {
    version: packageVersion(),
    device: engine.device,
    backend: describeBackend(engine),
    threads: engine.threads,
    jaxVersion: engine.jaxVersion,
    node: process.versions.node,
    models: names.map((n) => modelSummary(n, MODEL_PRESETS[n as ModelPreset])),
  };
}

/** 1499914 → "1.50 M". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function describeBackend(e: EngineInfo): string {
  switch (e.device) {
    case "wasm":
      return `jax-js wasm (SIMD${relaxedSimd ? " + relaxed FMA" : ""}), ${e.threads} thread${e.threads === 1 ? "" : "s"}`;
    case "webgpu":
      return `jax-js webgpu (${e.adapter})`;
    case "cpu":
      return "jax-js cpu (plain-JS reference backend, slow)";
  }
}

export function registerInfo(program: Command, globals: () => GlobalOptions): void {
  program
    .command("info")
    .description("show version, engine device, threads and available models")
    .option("--json", "print one JSON object", false)
    .option("--preset <name>", `show one model preset (${presetNames().join(", ")}) with its full config`)
    .action(async (opts: { json: boolean; preset?: string }) => {
      const r = await infoReport(globals().device, opts.preset);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const rows: [string, string][] = [
        ["wildrayzer", r.version],
        ["device", r.device],
        ["backend", r.backend],
        ["threads", String(r.threads)],
        ["jax-js", r.jaxVersion],
        ["node", r.node],
      ];
      for (const m of r.models) {
        rows.push([`model ${m.preset}`, `${formatCount(m.params)} params, ${m.imageSize}² px, patch ${m.patch}, width ${m.d}, layers ${m.layers}, ${m.sceneTokens} scene tokens`]);
      }
      process.stdout.write(rows.map(([k, v]) => `${k.padEnd(14)}${v}\n`).join(""));
      if (opts.preset) process.stdout.write(`\n${JSON.stringify(MODEL_PRESETS[opts.preset as ModelPreset], null, 2)}\n`);
    });
}
