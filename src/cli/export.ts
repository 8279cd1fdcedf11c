/**
 * `wildrayzer export --ckpt runs/x/checkpoint.safetensors --out models/small.safetensors`: the params of a
 * training checkpoint as a params-only model file (F16 by default, `--f32` to keep full precision), with the run's
 * training log copied beside it (`<out>.metrics.jsonl`) so reports can draw the training curve.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { startEngine } from "../engine/backend.ts";
import { readFileChecked, writeFileAtomic } from "../engine/files.ts";
import { exportModel } from "../train/checkpoint.ts";
import type { GlobalOptions } from "./globals.ts";

export function registerExport(program: Command, globals: () => GlobalOptions): void {
  program
    .command("export")
    .description("write a checkpoint's parameters as a small model file (F16) for eval, render and the demo")
    .requiredOption("--ckpt <file>", "a training checkpoint (checkpoint.safetensors)")
    .requiredOption("--out <file>", "the model file to write, e.g. models/small.safetensors")
    .option("--f32", "keep float32 instead of float16", false)
    .action(async (flags: { ckpt: string; out: string; f32: boolean }) => {
      const g = globals();
      await startEngine({ device: g.device });
      const meta = await exportModel(flags.ckpt, flags.out, flags.f32 ? "F32" : "F16");
      const log = join(dirname(flags.ckpt), "metrics.jsonl");
      if (existsSync(log)) {
        const copy = flags.out.replace(/\.safetensors$/, "") + ".metrics.jsonl";
        writeFileAtomic(copy, readFileChecked(log, "a training log"));
      }
      const mb = (statSync(flags.out).size / 1e6).toFixed(2);
      process.stdout.write(`wrote ${flags.out} (step ${meta.step}, ${flags.f32 ? "F32" : "F16"}, ${mb} MB)\n`);
    });
}
