/**
 * Progress bars for the CLI, a thin wrapper over cli-progress. On an interactive stderr a bar redraws in place;
 * when stderr is not a TTY (a pipe, a log file, CI) nothing is drawn and `stop` prints a single summary line;
 * with --quiet nothing is printed at all. Library code never sees this: it reports through `onProgress`
 * callbacks, and the command turns those into `update` calls.
 */
import cliProgress from "cli-progress";

export type ProgressOptions = {
  /** What is being done, e.g. "engine check". */
  label: string;
  /** The number of steps. */
  total: number;
  quiet?: boolean;
  /** Where bars and summaries go; stderr by default, so stdout holds only results. */
  stream?: NodeJS.WriteStream;
};

export type Progress = {
  /** Sets the step count done so far, with an optional short status ("matmul"). */
  update(done: number, status?: string): void;
  /** One more step done. */
  increment(status?: string): void;
  /** Ends the bar and prints `label: summary (elapsed)` unless quiet; the summary defaults to "done/total". */
  stop(summary?: string): void;
};

/** A progress reporter that draws a bar only where a person is watching. */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const start = performance.now();
  let done = 0;
  let stopped = false;
  const bar =
    !opts.quiet && stream.isTTY
      ? new cliProgress.SingleBar(
          {
            format: `${opts.label} [{bar}] {value}/{total} {status}`,
            stream,
            hideCursor: true,
            clearOnComplete: true,
            barsize: 24,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(opts.total, 0, { status: "" });

  return {
    update(value, status) {
      done = value;
      bar?.update(value, { status: status ?? "" });
    },
    increment(status) {
      this.update(done + 1, status);
    },
    stop(summary) {
      if (stopped) return;
      stopped = true;
      bar?.stop();
      if (opts.quiet) return;
      stream.write(`${opts.label}: ${summary ?? `${done}/${opts.total}`} (${formatDuration(performance.now() - start)})\n`);
    },
  };
}

/** Milliseconds as `850 ms`, `12.3 s` or `4 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}
