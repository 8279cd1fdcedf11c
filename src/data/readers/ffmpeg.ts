/**
 * The ffmpeg behind video reading and writing. Found in this order: `WRZ_FFMPEG` (a path), a system `ffmpeg` on
 * PATH, else the static binary shipped inside the npm package `@ffmpeg-installer/ffmpeg` (its platform package
 * carries the binary in the tarball: nothing is downloaded at install or run time). `--verbose` prints which.
 * Frames travel as PNG files in a private temp folder that is always removed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, dirname, basename } from "node:path";
import { mkdirSync } from "node:fs";
import { WildrayzerError } from "../../engine/errors.ts";

export type Ffmpeg = { path: string; source: string };

let cached: Ffmpeg | undefined;

/** The ffmpeg to use, or a one-line error saying how to get one. */
export function findFfmpeg(): Ffmpeg {
  if (cached) return cached;
  const env = process.env.WRZ_FFMPEG;
  if (env) {
    if (!runs(env)) throw new WildrayzerError(`WRZ_FFMPEG=${env}: not a working ffmpeg (\`${env} -version\` failed)`);
    return (cached = { path: env, source: `WRZ_FFMPEG (${env})` });
  }
  if (runs("ffmpeg")) return (cached = { path: "ffmpeg", source: "system ffmpeg on PATH" });
  try {
    const req = createRequire(import.meta.url);
    const pkg = req("@ffmpeg-installer/ffmpeg") as { path: string; version: string };
    if (runs(pkg.path)) return (cached = { path: pkg.path, source: `bundled @ffmpeg-installer/ffmpeg ${pkg.version} (${pkg.path})` });
  } catch {
    // no binary for this platform: fall through to the error
  }
  throw new WildrayzerError("no ffmpeg found: install ffmpeg (e.g. apt-get install ffmpeg) or set WRZ_FFMPEG=/path/to/ffmpeg");
}

function runs(bin: string): boolean {
  const r = spawnSync(bin, ["-version"], { stdio: "ignore", timeout: 20_000 });
  return r.status === 0;
}

export type ExtractOptions = { start?: number; duration?: number; stride?: number; maxFrames?: number };

/**
 * Decodes the frames of video `file` (every `stride`-th, at most `maxFrames`, within [start, start + duration]
 * seconds) to PNG bytes, in order. Names are the zero-padded frame numbers counted from `start`.
 */
export function extractFrames(file: string, opts: ExtractOptions = {}): { frames: { name: string; bytes: Uint8Array }[]; ffmpeg: Ffmpeg } {
  const ff = findFfmpeg();
  const stride = opts.stride ?? 1;
  const dir = mkdtempSync(join(tmpdir(), "wrz-frames-"));
  try {
    const args = ["-v", "error", "-nostdin"];
    if (opts.start !== undefined) args.push("-ss", String(opts.start));
    if (opts.duration !== undefined) args.push("-t", String(opts.duration));
    args.push("-i", file, "-map", "0:v:0");
    if (stride > 1) args.push("-vf", `select=not(mod(n\\,${stride}))`);
    args.push("-vsync", "0");
    if (opts.maxFrames !== undefined) args.push("-frames:v", String(opts.maxFrames));
    args.push(join(dir, "%06d.png"));
    const r = spawnSync(ff.path, args, { encoding: "utf8", maxBuffer: 16 << 20 });
    const names = readdirSync(dir).filter((n) => n.endsWith(".png")).sort();
    if (r.status !== 0 || names.length === 0) {
      const why = (r.stderr || r.error?.message || "no video frames decoded").trim().split("\n").filter(Boolean).at(-1) ?? "";
      throw new WildrayzerError(`${file}: cannot decode video (${why.replace(/^.*?: /, "") || "no frames"})`);
    }
    const frames = names.map((n, i) => ({ name: String(i * stride).padStart(5, "0"), bytes: new Uint8Array(readFileSync(join(dir, n))) }));
    return { frames, ffmpeg: ff };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Encodes PNG frames (in order) to `out` — `.mp4` (H.264, yuv420p) or `.gif` — at `fps`, atomically (a temp file
 * beside `out`, then rename). Frame sizes must be even for mp4; odd sizes are padded by one pixel.
 */
export function encodeVideo(pngs: readonly Uint8Array[], out: string, fps = 10): Ffmpeg {
  const ff = findFfmpeg();
  const dir = mkdtempSync(join(tmpdir(), "wrz-encode-"));
  mkdirSync(dirname(out), { recursive: true });
  const ext = out.toLowerCase().endsWith(".gif") ? "gif" : "mp4";
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp.${ext}`);
  try {
    pngs.forEach((b, i) => writeFileSync(join(dir, `${String(i).padStart(6, "0")}.png`), b));
    const codec = ext === "gif" ? [] : ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-crf", "18"];
    const r = spawnSync(ff.path, ["-v", "error", "-nostdin", "-y", "-framerate", String(fps), "-i", join(dir, "%06d.png"), ...codec, tmp], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`ffmpeg failed writing ${out}: ${(r.stderr || r.error?.message || "").trim()}`);
    renameSync(tmp, out);
    return ff;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmp, { force: true });
  }
}
