/**
 * Node-only file helpers. Every output goes through `writeFileAtomic`: the bytes land in a temp file beside the
 * target and are renamed over it, so a crash or a kill never leaves a half-written checkpoint or image behind.
 * Not browser-safe (uses `node:fs`); `web/` must not import it.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

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
