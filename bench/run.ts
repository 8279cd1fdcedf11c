/**
 * `npm run bench`: runs every `bench/*.bench.ts` case in its own child process at each thread count (the worker
 * pool size is fixed when jax-js is imported, so a thread count needs a fresh process; a fresh process per case
 * also makes each row's peak RSS its own), collects the `BENCH_ROW` lines (protocol.ts), prints a Markdown table
 * and writes `bench/results/<timestamp>.json`, `latest.json` and `latest.md` with the machine it ran on.
 *
 * Options: `--only <substring>` keeps cases whose `file/name shape` contains it (`--only "jit N=1024"`);
 * `--quick` takes fewer reps (a smoke run); `--list` prints the cases and thread counts it would run, and runs none;
 * `--threads 1,2` sets the thread counts (default 1 and 2; a case whose `skip` rules out a count is not run at it);
 * `--retries <k>` (default 1) reruns a case up to k times when other processes kept more than 0.25 cores busy
 * while it was timed, and keeps the least disturbed row; no retry starts once the children have run 120 s, so the
 * whole run stays near 3 minutes on 2 cores. `--wait-quiet <s>` (default 0) waits up to s seconds before each case
 * until other processes use less than 0.25 cores (for shared machines). Exit code 1 if any case failed (the other
 * rows are still written), 2 for a bad option.
 */
import { spawn, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomic } from "../src/engine/files.ts";
import { startLoadProbe } from "./load.ts";
import { CASES_PREFIX, META_PREFIX, ROW_PREFIX, type BenchMeta, type BenchRow } from "./protocol.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BENCH_DIR = join(ROOT, "bench");
const RESULTS_DIR = join(BENCH_DIR, "results");
/** A child that runs longer than this is killed and reported as failed (the slowest case takes ~15 s). */
const CHILD_TIMEOUT_MS = 180_000;
/** Other processes' CPU (in cores) above which a row counts as disturbed and is retried. */
const BUSY_CORES = 0.25;
/** No retry starts once the children have run this long in all (ms). */
const RETRY_BUDGET_MS = 120_000;

type Options = { only: string; quick: boolean; list: boolean; threads: number[]; retries: number; waitQuiet: number };
type Failure = { case: string; threads: number; error: string };

function parseOptions(argv: string[]): Options {
  const opts: Options = { only: "", quick: false, list: false, threads: [1, 2], retries: 1, waitQuiet: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") opts.quick = true;
    else if (a === "--list") opts.list = true;
    else if (a === "--only") opts.only = value();
    else if (a === "--threads") {
      opts.threads = value().split(",").map(Number);
      if (opts.threads.some((t) => !Number.isInteger(t) || t < 1)) usage("--threads takes positive integers, e.g. 1,2");
    } else if (a === "--retries") {
      opts.retries = Number(value());
      if (!Number.isInteger(opts.retries) || opts.retries < 0) usage("--retries takes a whole number");
    } else if (a === "--wait-quiet") {
      opts.waitQuiet = Number(value());
      if (!(opts.waitQuiet >= 0)) usage("--wait-quiet takes seconds (0 or more)");
    } else usage(`unknown option ${a}`);
  }
  return opts;
}

function usage(problem: string): never {
  const usageLine = "npm run bench -- [--only <substring>] [--quick] [--list] [--threads 1,2] [--retries 1] [--wait-quiet 0]";
  process.stderr.write(`bench: ${problem}\nusage: ${usageLine}\n`);
  process.exit(2);
}

/** Waits (up to `maxSeconds`) until other processes use at most BUSY_CORES for a second; returns seconds waited. */
async function waitForQuiet(maxSeconds: number): Promise<number> {
  const t0 = performance.now();
  let said = false;
  while ((performance.now() - t0) / 1000 < maxSeconds) {
    const probe = startLoadProbe();
    await sleep(1000);
    const busy = probe();
    if (busy === null || busy <= BUSY_CORES) break;
    if (!said) process.stderr.write(`  other processes use ${busy.toFixed(2)} cores: waiting up to ${maxSeconds} s\n`);
    said = true;
  }
  return (performance.now() - t0) / 1000;
}

type ChildResult = { lines: string[]; stderr: string; code: number | null };

/** Runs one bench file in a child with `WRZ_THREADS=threads`; resolves with its stdout lines and exit code. */
function runChild(file: string, args: string[], threads: number): Promise<ChildResult> {
  const argv = ["--import", "tsx", "--import", "./src/engine/workerAdapter.ts", `bench/${file}.bench.ts`, ...args];
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: { ...process.env, WRZ_THREADS: String(threads) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal) stderr += `\nkilled by ${signal}${signal === "SIGKILL" ? ` (timeout ${CHILD_TIMEOUT_MS / 1000} s?)` : ""}`;
      resolve({ lines: stdout.split("\n"), stderr, code });
    });
  });
}

function parsePrefixed<T>(lines: string[], prefix: string): T[] {
  return lines.filter((l) => l.startsWith(prefix)).map((l) => JSON.parse(l.slice(prefix.length)) as T);
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

function machineInfo(): Record<string, unknown> {
  const git = (args: string[]) => {
    try {
      return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return null;
    }
  };
  const jaxPkg = JSON.parse(readFileSync(join(ROOT, "node_modules/@jax-js/jax/package.json"), "utf8")) as { version: string };
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpus[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memoryGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    jaxJs: jaxPkg.version,
    gitCommit: git(["rev-parse", "HEAD"]),
    gitDirty: (git(["status", "--porcelain"]) ?? "") !== "",
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));

const fmtCores = (c: number | null) => (c === null ? "" : c.toFixed(2));
const fmtGflops = (r: BenchRow) => (r.gflop > 0 ? r.gflops.toFixed(1) : "–");

/**
 * The Markdown table; "vs 1 thread" is the speed-up over the same case's 1-thread row, "other CPU" the cores
 * other processes kept busy while the row was timed (near 0 on a quiet machine).
 */
export function markdownTable(rows: BenchRow[]): string {
  const oneThread = new Map(rows.filter((r) => r.threads === 1).map((r) => [`${r.file}/${r.name} ${r.shape}`, r.ms]));
  const lines = [
    "| name | threads | shape | ms (median) | GFLOP/s | vs 1 thread | peak RSS MB | other CPU |",
    "|---|--:|---|--:|--:|--:|--:|--:|",
  ];
  for (const r of rows) {
    const base = oneThread.get(`${r.file}/${r.name} ${r.shape}`);
    const speedup = r.threads === 1 || base === undefined ? "" : `${(base / r.ms).toFixed(2)}×`;
    lines.push(
      `| ${r.name} | ${r.threads} | ${r.shape} | ${fmtMs(r.ms)} | ${fmtGflops(r)} | ${speedup} | ` +
        `${Math.round(r.peakRssMB)} | ${fmtCores(r.otherCores)} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const machine = machineInfo();
  const started = performance.now();
  const files = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(".bench.ts"))
    .map((f) => f.slice(0, -".bench.ts".length))
    .sort((a, b) => (a === "matmul" ? -1 : b === "matmul" ? 1 : a.localeCompare(b))); // matmul first: the reference numbers

  const plan: { file: string; key: string; threads: number[] }[] = [];
  for (const file of files) {
    // A case's `skip` may look at the thread count (the paper model on ONNX runs at 2+ threads only), so the file
    // lists its cases at each requested count, and each case runs at the counts that listed it. A single-threaded
    // file is listed, and run, at the first count only.
    const listedAt = new Map<number, string[]>();
    for (const threads of opts.threads) {
      const listed = await runChild(file, ["--list"], threads);
      const [keys] = parsePrefixed<string[]>(listed.lines, CASES_PREFIX);
      if (listed.code !== 0 || !keys) throw new Error(`bench/${file}.bench.ts --list at ${threads} thread${threads > 1 ? "s" : ""} failed:\n${lastLines(listed.stderr, 20)}`);
      listedAt.set(threads, keys);
      const [meta] = parsePrefixed<BenchMeta>(listed.lines, META_PREFIX);
      if (meta?.singleThreaded) break;
    }
    const keys = [...new Set([...listedAt.values()].flat())]; // in listing order, cases found only at more threads last
    for (const key of keys) {
      if (!`${file}/${key}`.includes(opts.only)) continue;
      plan.push({ file, key, threads: [...listedAt].filter(([, k]) => k.includes(key)).map(([t]) => t) });
    }
  }
  if (plan.length === 0) usage(`--only "${opts.only}" matches no case at threads ${opts.threads.join(",")}`);
  if (opts.list) {
    for (const p of plan) process.stdout.write(`${p.file}/${p.key} @ threads ${p.threads.join(",")}\n`);
    return;
  }
  if ((machine.loadAvgAtStart as number[])[0]! > 0.5) {
    const load = (machine.loadAvgAtStart as number[])[0];
    process.stderr.write(`bench: load average ${load} at start: other work will skew the timings\n`);
  }

  // Thread counts interleave per case, so slow drift in the machine's load hits both sides of each ratio alike.
  const rows: BenchRow[] = [];
  const failures: Failure[] = [];
  const total = plan.reduce((s, p) => s + p.threads.length, 0);
  let done = 0;
  let childMs = 0;
  let waitedSeconds = 0;
  for (const { file, key, threads: threadCounts } of plan) {
    for (const threads of threadCounts) {
      const label = `${file}/${key} @ ${threads} thread${threads > 1 ? "s" : ""}`;
      done++;
      let best: BenchRow | null = null;
      for (let attempt = 0; attempt <= opts.retries; attempt++) {
        if (opts.waitQuiet > 0) waitedSeconds += await waitForQuiet(opts.waitQuiet);
        const t0 = performance.now();
        const res = await runChild(file, ["--case", key, ...(opts.quick ? ["--quick"] : [])], threads);
        childMs += performance.now() - t0;
        const [row] = parsePrefixed<BenchRow>(res.lines, ROW_PREFIX);
        if (res.code !== 0 || !row) {
          const error = lastLines(res.stderr, 20) || `exit code ${res.code}`;
          failures.push({ case: `${file}/${key}`, threads, error });
          process.stderr.write(`[${done}/${total}] ${label}: FAILED\n${error}\n`);
          break;
        }
        const busy = row.otherCores ?? 0;
        process.stderr.write(
          `[${done}/${total}] ${label}: ${fmtMs(row.ms)} ms, ${fmtGflops(row)} GFLOP/s, ` +
            `${Math.round(row.peakRssMB)} MB, other CPU ${fmtCores(row.otherCores)}\n`,
        );
        if (!best || busy < (best.otherCores ?? 0)) best = row;
        if (busy <= BUSY_CORES || childMs > RETRY_BUDGET_MS) break;
        if (attempt < opts.retries) process.stderr.write(`  other processes were busy: retrying\n`);
      }
      if (best) rows.push(best);
    }
  }

  const seconds = Math.round((performance.now() - started) / 1000);
  const args = process.argv.slice(2).map((x) => (/^[\w.,=+/-]+$/.test(x) ? x : JSON.stringify(x)));
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`;
  const result = {
    machine: { ...machine, loadAvgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    command,
    options: opts,
    seconds,
    waitedSeconds: Math.round(waitedSeconds),
    rows,
    failures,
  };
  const table = markdownTable(rows);
  const stamp = (machine.date as string).replace(/[:.]/g, "-");
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeFileAtomic(join(RESULTS_DIR, `${stamp}.json`), json);
  writeFileAtomic(join(RESULTS_DIR, "latest.json"), json);
  const m = machine as Record<string, string | number | boolean | null>;
  const header =
    `Command: \`${command}\` · ${m.date} · ${m.cpuModel}, ${m.cores} cores · Node ${m.node} · jax-js ${m.jaxJs} · ` +
    `commit ${String(m.gitCommit ?? "unknown").slice(0, 7)}${m.gitDirty ? " (dirty)" : ""} · ${seconds} s` +
    (waitedSeconds >= 1 ? ` (${Math.round(waitedSeconds)} s waiting for a quiet machine)` : "");
  writeFileAtomic(join(RESULTS_DIR, "latest.md"), `${header}\n\n${table}\n`);

  process.stdout.write(`\n${header}\n\n${table}\n\n`);
  process.stdout.write(`wrote ${relative(ROOT, join(RESULTS_DIR, `${stamp}.json`))}, latest.json, latest.md\n`);
  if (failures.length > 0) {
    process.stderr.write(`bench: ${failures.length} case(s) failed: ${failures.map((f) => `${f.case} @ ${f.threads}`).join(", ")}\n`);
    process.exitCode = 1;
  }
}

await main();
