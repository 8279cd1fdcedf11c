/**
 * Node-only file helpers. `readFileChecked` turns a failed read into a one-line user error. Every output goes through `writeFileAtomic`: the bytes land in a temp file beside the
 * target and are renamed over it, so a crash or a kill never leaves a half-written checkpoint or image behind.
 * Not browser-safe (uses `node:fs`); `web/` must not import it.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync, readFileSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { WildrayzerError } from "./errors.ts";

let counter = 0;

/** Writes `data` to `path` atomically (temp file in the same folder, fsync, rename). Creates parent folders. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  try {
    writeFileSync(tmp, data);
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Reads a whole file, or throws a one-line `WildrayzerError` naming the path and what went wrong
 * (`ckpt.safetensors: file not found (expected a checkpoint)`). `what` says what the file should be.
 */
export function readFileChecked(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === "ENOENT" ? "file not found"
      : code === "EISDIR" ? "is a directory, not a file"
      : code === "ENOTDIR" ? "a parent of this path is not a directory"
      : code === "EACCES" || code === "EPERM" ? "permission denied"
      : `cannot read (${code ?? (err as Error).message})`;
    throw new WildrayzerError(`${path}: ${problem} (expected ${what})`, { cause: err });
  }
}
