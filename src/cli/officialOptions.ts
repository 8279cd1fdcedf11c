/**
 * Flags shared by the commands that accept official WildRayZer / RayZer weights (`convert`, and `eval`, `render`,
 * `masks` through the model loader): `--official-preset` picks the official preset (default: detected from the keys) and
 * `--official-config` sets what the weights cannot tell (image size, views, input views), as JSON.
 */
import { Option, type Command } from "commander";
import { WildrayzerError, formatIssues } from "../engine/errors.ts";
import { MODEL_PRESETS, ModelConfigSchema, type ModelConfig } from "../model/config.ts";
import type { OfficialLoad, OfficialLoadOptions } from "../model/officialFile.ts";

export const OFFICIAL_PRESETS = ["official-wildrayzer-2view", "official-rayzer-dl3dv"] as const;
export type OfficialFlags = { officialPreset?: (typeof OFFICIAL_PRESETS)[number]; officialConfig?: string };

export function addOfficialOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--official-preset <name>", "official weights: the model they are (default: detected from the tensor names)").choices(OFFICIAL_PRESETS))
    .option("--official-config <json>", `official weights: config fields the weights cannot tell, e.g. '{"imageSize":32,"views":4,"inputViews":2}' (default: the preset's)`);
}

/** The flags as loader options; a bad JSON or an unknown field is one line. */
export function officialOptionsFrom(flags: OfficialFlags): OfficialLoadOptions {
  const opts: OfficialLoadOptions = flags.officialPreset ? { preset: flags.officialPreset } : {};
  if (flags.officialConfig === undefined) return opts;
  let raw: unknown;
  try {
    raw = JSON.parse(flags.officialConfig);
  } catch {
    throw new WildrayzerError(`--official-config ${flags.officialConfig}: not valid JSON`);
  }
  const allowed = ["imageSize", "views", "inputViews"] as const;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new WildrayzerError("--official-config: expected a JSON object");
  const extra = Object.keys(raw).filter((k) => !(allowed as readonly string[]).includes(k));
  if (extra.length) throw new WildrayzerError(`--official-config: ${extra.join(", ")} cannot be set (only ${allowed.join(", ")}; the rest comes from the weights and the preset)`);
  const parsed = ModelConfigSchema.safeParse({ ...MODEL_PRESETS["official-wildrayzer-2view"], ...raw });
  if (!parsed.success) throw new WildrayzerError(formatIssues("--official-config", parsed.error.issues));
  return { ...opts, overrides: raw as Partial<ModelConfig> };
}

/** One line describing a converted config, and the dropped / filled lines. */
export function describeOfficial(o: OfficialLoad): string[] {
  const c = o.config;
  const lines = [
    `${o.preset}: d ${c.d}, ${c.heads} heads, ${c.layers.camera}/${c.layers.encoder}/${c.layers.renderer} layers, ${c.sceneTokens} scene tokens, ${c.imageSize}² at patch ${c.patch}, ${c.inputViews} + ${c.views - c.inputViews} views`,
  ];
  const dropped = o.report.dropped.map((d) => `${d.prefix.endsWith(".") ? `${d.prefix}*` : d.prefix} (${d.count})`);
  dropped.push(...o.otherEntries.map((e) => `checkpoint entry "${e}"`));
  if (dropped.length) lines.push(`dropped: ${dropped.join(", ")}`);
  for (const m of o.report.missing) lines.push(`missing: ${m.name}, filled with ${m.filled}`);
  return lines;
}
