/**
 * `wildrayzer convert --from wildrayzer_2view.pt --out models/wildrayzer_2view.safetensors`: official WildRayZer /
 * RayZer weights (a PyTorch `.pt`, read safely, or a safetensors in the official key layout) as our model file
 * (`wildrayzer-model-v1`, the format `export` writes, config in its metadata). Takes `model` from the checkpoint,
 * drops the loss network and the motion-mask head, and says what it dropped and what it had to fill in.
 * `--keep-optimizer` also copies the checkpoint's optimizer tensors under `optimizer.*` (kept as they are, keyed by
 * the official parameter index; our loaders ignore them).
 */
import { statSync } from "node:fs";
import { Option, type Command } from "commander";
import { startEngine } from "../engine/backend.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { dispose, namedLeaves } from "../engine/params.ts";
import { encodeSafetensors, type TensorEntry } from "../engine/safetensors.ts";
import { findTensors, openTorchCheckpoint, PyDict } from "../engine/torchCheckpoint.ts";
import { isZipFile, loadOfficialWeights, officialRun } from "../model/officialFile.ts";
import type { GlobalOptions } from "./globals.ts";
import { addOfficialOptions, describeOfficial, officialOptionsFrom, type OfficialFlags } from "./officialOptions.ts";
import { formatDuration } from "./progress.ts";

type ConvertFlags = OfficialFlags & { from: string; out: string; dtype: "f16" | "f32"; keepOptimizer: boolean };

export function registerConvert(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command("convert")
    .description("convert the released official WildRayZer / RayZer weights (.pt) into a wildrayzer model file")
    .requiredOption("--from <file>", "official weights: a PyTorch checkpoint (.pt) or a safetensors in the official key layout")
    .requiredOption("--out <file>", "the model file to write (.safetensors)")
    .addOption(new Option("--dtype <kind>", "storage of the written weights").choices(["f16", "f32"]).default("f16"))
    .option("--keep-optimizer", "also copy the checkpoint's optimizer tensors (under optimizer.*)", false);
  addOfficialOptions(cmd).action(async (flags: ConvertFlags) => {
    const g = globals();
    const t0 = performance.now();
    const opts = officialOptionsFrom(flags);
    await startEngine({ device: g.device });
    const o = await loadOfficialWeights(flags.from, opts);
    const extra: TensorEntry[] = flags.keepOptimizer && isZipFile(flags.from) ? await optimizerTensors(flags.from) : [];
    const entries: TensorEntry[] = [];
    for (const [name, x] of namedLeaves({ params: o.params })) entries.push({ name, shape: [...x.shape], data: (await x.ref.data()) as Float32Array });
    dispose(o.params);
    const run = officialRun(o.config, { official: { from: flags.from, preset: o.preset, dropped: o.report.dropped, missing: o.report.missing } });
    const meta = { format: "wildrayzer-model-v1", step: 0, stage: 1, run };
    const dtype = flags.dtype === "f32" ? "F32" : "F16";
    writeFileAtomic(flags.out, encodeSafetensors([...entries, ...extra], { wildrayzer: JSON.stringify(meta) }, dtype));
    for (const line of describeOfficial(o)) if (!g.quiet || line.startsWith("missing")) process.stdout.write(`${line}\n`);
    if (flags.keepOptimizer) process.stdout.write(extra.length ? `kept: ${extra.length} optimizer tensors under optimizer.*\n` : "kept: no optimizer tensors (the file has none)\n");
    const mb = (statSync(flags.out).size / 1e6).toFixed(1);
    process.stdout.write(`wrote ${flags.out} (${dtype}, ${mb} MB, ${formatDuration(performance.now() - t0)})\n`);
  });
}

/** Every float tensor under the checkpoint's `optimizer` entry, named by its path (`optimizer.state.3.exp_avg`). */
async function optimizerTensors(path: string): Promise<TensorEntry[]> {
  const ckpt = await openTorchCheckpoint(path);
  try {
    const root = ckpt.root;
    const opt = root instanceof PyDict ? root.map.get("optimizer") : undefined;
    if (opt === undefined) return [];
    const found = findTensors(opt, "optimizer");
    const out: TensorEntry[] = [];
    for (const [name, t] of found) out.push({ name, shape: t.shape, data: await ckpt.read(t, name) });
    return out;
  } finally {
    await ckpt.close();
  }
}
