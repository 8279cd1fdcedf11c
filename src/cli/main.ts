/**
 * The `wildrayzer` command line: the commander program, its global options, and the one place that turns
 * errors into exit codes. `bin/wildrayzer.js` calls `main(process.argv)` and exits with what it returns:
 * 0 on success; 2 for usage mistakes (commander's own errors and `WildrayzerError`s, printed as one line
 * `wildrayzer: <message>`); 1 for anything else, which is a bug (one line, the stack trace with --verbose).
 * Each command lives in its own file and only adapts the library to flags, console lines and files.
 */
import "../engine/workerAdapter.ts"; // first: jax-js sizes its worker pool when it is imported
import type { GlobalOptions } from "./globals.ts";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DEVICE_KINDS } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { registerDemo } from "./demo.ts";
import { packageVersion, registerInfo } from "./info.ts";
import { registerSynth } from "./synth.ts";
import { registerTrain } from "./train.ts";
import { registerEval } from "./eval.ts";
import { registerInspect } from "./inspect.ts";
import { registerRender } from "./render.ts";
import { registerExport } from "./export.ts";
import { registerCompare } from "./compare.ts";
import { registerMasks } from "./masks.ts";
import { registerView } from "./view.ts";
import { registerConvert } from "./convert.ts";

/** Options every command sees (set before or after the command name). */

/** Runs the CLI on `argv` (`process.argv` shape: node, script, args...) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    const verbose = program.opts().verbose === true || argv.includes("--verbose");
    const report = reportError(err, verbose);
    if (report.text) process.stderr.write(report.text);
    return report.code;
  }
}

/** The commander program with every command registered. Commander never exits the process itself. */
export function buildProgram(): Command {
  const program = new Command("wildrayzer")
    .description("WildRayZer: self-supervised, pose-free novel view synthesis for dynamic scenes, on jax-js")
    .version(packageVersion(), "-V, --version")
    .addOption(new Option("--threads <n>", "worker threads of the wasm engine (default: all cores)").argParser(positiveInt))
    .addOption(new Option("--device <kind>", "array engine device").choices(DEVICE_KINDS).default("wasm"))
    .addOption(new Option("--quiet", "print only results and errors").default(false).conflicts("verbose"))
    .addOption(new Option("--verbose", "print more detail, and stack traces for internal errors").default(false))
    .exitOverride() // commander throws a CommanderError instead of calling process.exit; `main` maps it
    .configureOutput({ outputError: () => {} }) // `reportError` prints usage errors as one line
    .showSuggestionAfterError(true);
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  // Register after exitOverride/configureOutput: `.command()` copies those settings into each subcommand.
  registerInfo(program, globals);
  registerDemo(program, globals);
  registerSynth(program, globals);
  registerTrain(program, globals);
  registerEval(program, globals);
  registerInspect(program, globals);
  registerRender(program, globals);
  registerExport(program, globals);
  registerCompare(program, globals);
  registerMasks(program, globals);
  registerView(program, globals);
  registerConvert(program, globals);
  return program;
}

/** What to print on stderr for an error and the exit code it maps to. */
export function reportError(err: unknown, verbose: boolean): { code: number; text: string } {
  if (err instanceof CommanderError) {
    // Help and --version end with a CommanderError too, already printed. Commander gives exit code 1 to help it
    // showed because no command was given (on stderr): a usage error, so 2 here.
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return { code: 0, text: "" };
    if (err.code === "commander.help") return { code: err.exitCode === 0 ? 0 : 2, text: "" };
    return { code: 2, text: `wildrayzer: ${oneLine(err.message.replace(/^error: /, ""))}\n` };
  }
  if (err instanceof WildrayzerError) {
    const stack = verbose && err.stack ? `${err.stack}\n` : "";
    return { code: err.exitCode, text: `wildrayzer: ${oneLine(err.message)}\n${stack}` };
  }
  const message = oneLine(err instanceof Error ? err.message : String(err));
  if (verbose) return { code: 1, text: `wildrayzer: internal error: ${message}\n${err instanceof Error ? err.stack : ""}\n` };
  return { code: 1, text: `wildrayzer: internal error: ${message} (rerun with --verbose for the stack trace)\n` };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer.");
  return n;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}
