/**
 * The `--out` folder rule of the commands that write a folder of results (`run`, `masks`, `render`). `checkOutDir`
 * runs before any work and writes nothing; the `claim` it returns is called when the results are ready, just before
 * they are written:
 * - `--out` naming an existing file (not a folder) is a usage error.
 * - A new or empty folder is used as is.
 * - A non-empty folder is used only when a previous run of the same command wrote it (it holds this command's
 *   marker file `.wildrayzer`); then everything that command owns there (its fixed output names, and for `masks`
 *   its per-frame PNGs) is removed first, so old and new results never mix. Files it does not own are left alone.
 * - Any other non-empty folder is refused: the user picks another folder (nothing is deleted).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";

/** Name of the marker file a command leaves in its output folder. */
export const OUT_MARKER = ".wildrayzer";

/** What a command owns in its output folder: fixed names (files or folders) and/or a test on other names. */
export type Owned = { names: readonly string[]; matches?: (name: string) => boolean };

/** One line for `--help`: the folder rule. */
export const OUT_HELP = "output folder: new, empty, or one this same command wrote before (its old outputs are removed first); a folder with other contents is refused";

/**
 * Checks that `out` can take `command`'s results (header) and throws a one-line `WildrayzerError` when not; writes
 * nothing. The returned `claim` removes what `command` owns there from an earlier run and writes the marker.
 */
export function checkOutDir(out: string, command: string, owned: Owned): { claim: () => void } {
  let stale: string[] = [];
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new WildrayzerError(`--out ${out}: is a file, not a folder; name a new or empty folder`);
    const entries = readdirSync(out);
    if (entries.length > 0) {
      const marker = join(out, OUT_MARKER);
      const writer = existsSync(marker) ? readMarker(marker) : undefined;
      if (writer !== command) {
        const by = writer ? `was written by \`wildrayzer ${writer}\`` : "holds files not written by this command";
        throw new WildrayzerError(`--out ${out}: the folder is not empty and ${by}; name a new or empty folder (or one \`wildrayzer ${command}\` wrote)`);
      }
      stale = entries.filter((name) => name !== OUT_MARKER && (owned.names.includes(name) || owned.matches?.(name)));
    }
  }
  return {
    claim: () => {
      for (const name of stale) rmSync(join(out, name), { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      writeFileAtomic(join(out, OUT_MARKER), `${JSON.stringify({ command })}\n`);
    },
  };
}

function readMarker(path: string): string | undefined {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as { command?: unknown };
    return typeof v.command === "string" ? v.command : undefined;
  } catch {
    return undefined;
  }
}
