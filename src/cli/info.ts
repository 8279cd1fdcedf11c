/**
 * `wildrayzer info`: what this installation is: package version, engine device and backend, worker threads,
 * the jax-js version, Node's version and the model presets available. `--json` prints the same as one JSON
 * object for scripts. Starting the engine here also checks that the chosen `--device` works.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { startEngine, type EngineInfo } from "../engine/backend.ts";
import type { GlobalOptions } from "./main.ts";

export type InfoReport = {
  version: string;
  device: EngineInfo["device"];
  backend: string;
  threads: number;
  jaxVersion: string;
  node: string;
  /** Model presets; empty until the RayZer core lands. */
  models: string[];
};

/** The `version` field of this package's package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Starts the engine on `device` and describes the installation. */
export async function infoReport(device: GlobalOptions["device"]): Promise<InfoReport> {
  const engine = await startEngine({ device });
  return {
    version: packageVersion(),
    device: engine.device,
    backend: describeBackend(engine),
    threads: engine.threads,
    jaxVersion: engine.jaxVersion,
    node: process.versions.node,
    models: [],
  };
}

function describeBackend(e: EngineInfo): string {
  switch (e.device) {
    case "wasm":
      return `jax-js wasm (SIMD), ${e.threads} thread${e.threads === 1 ? "" : "s"}`;
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
    .action(async (opts: { json: boolean }) => {
      const r = await infoReport(globals().device);
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
        ["models", r.models.length ? r.models.join(", ") : "none yet (presets arrive with the RayZer core)"],
      ];
      process.stdout.write(rows.map(([k, v]) => `${k.padEnd(12)}${v}\n`).join(""));
    });
}
