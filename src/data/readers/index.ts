/**
 * `readClip(path, options)`: real footage → `Clip` (src/data/clip.ts), with the reader chosen by what the path
 * holds (or `options.format`):
 *
 * | path holds                                            | format  | masks | cameras |
 * |-------------------------------------------------------|---------|-------|---------|
 * | a video file (mp4, mov, webm, mkv, avi, m4v, gif)      | video   |       |         |
 * | `scene.json` (LVSM/RayZer scene JSON, our synth scenes) | scene   | yes   | yes     |
 * | `poses_bounds.npy` + `images/`, `images_N/` (or `frames/`)         | llff    |       | yes     |
 * | `JPEGImages/` + `Annotations/`, or `frames/` + `masks/` | davis   | yes   |         |
 * | image files (JPEG, PNG, WebP, TIFF)                    | images  |       |         |
 *
 * Frames are listed in natural order (`img2` before `img10`), subsampled by `stride` and `maxFrames`, and each is
 * brought to the working size by the crop policy of `crop.ts` (or kept at its own size with `native`). Every bad input is a one-line `WildrayzerError`
 * naming the file and the problem (exit 2); nothing is written.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { WildrayzerError } from "../../engine/errors.ts";
import { readFileChecked } from "../../engine/files.ts";
import { cropIntrinsics, computeCrop, type CropMap, type CropPolicy } from "../crop.ts";
import type { Clip, ClipFormat, ReadClipOptions } from "../clip.ts";
import { llffCameras } from "../llff.ts";
import { parseNpy } from "../npy.ts";
import type { Frame } from "../scene.ts";
import { readScene } from "../sceneIo.ts";
import { decodeFrameToWorking, decodeMaskToWorking, resizePlanar } from "./decode.ts";
import { extractFrames } from "./ffmpeg.ts";

export { encodeVideo, findFfmpeg } from "./ffmpeg.ts";

export const VIDEO_EXTENSIONS = [".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v", ".gif"];
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"];

const natural = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Image files directly inside `dir`, in natural order. */
export function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()) && !n.startsWith("."))
    .sort(natural.compare)
    .map((n) => join(dir, n));
}

/** Which reader a path needs, or a one-line error saying what was expected. */
export function detectFormat(path: string): ClipFormat {
  if (!existsSync(path)) throw new WildrayzerError(`${path}: no such file or folder`);
  const st = statSync(path);
  if (st.isFile()) {
    const ext = extname(path).toLowerCase();
    if (VIDEO_EXTENSIONS.includes(ext)) return "video";
    if (ext === ".json") return "scene";
    if (IMAGE_EXTENSIONS.includes(ext)) throw new WildrayzerError(`${path}: a single image; give the folder of frames (a clip needs at least 2)`);
    throw new WildrayzerError(`${path}: unsupported file type "${ext}" (expected a video: ${VIDEO_EXTENSIONS.join(" ")}, or a scene .json)`);
  }
  if (existsSync(join(path, "scene.json"))) return "scene";
  if (existsSync(join(path, "poses_bounds.npy"))) return "llff";
  if (existsSync(join(path, "JPEGImages")) || (existsSync(join(path, "frames")) && existsSync(join(path, "masks")))) return "davis";
  if (listImages(path).length > 0 || existsSync(join(path, "frames")) || existsSync(join(path, "images"))) return "images";
  throw new WildrayzerError(
    `${path}: found no video, images or known layout (expected image files, frames/ [+ masks/], JPEGImages/ + Annotations/, poses_bounds.npy + images/, or scene.json)`,
  );
}

/** Reads the clip at `path`. */
export async function readClip(path: string, options: ReadClipOptions): Promise<Clip> {
  const opts = { crop: "center" as CropPolicy, stride: 1, ...options };
  if (!Number.isInteger(opts.size) || opts.size < 8) throw new WildrayzerError(`--size ${opts.size}: must be an integer ≥ 8`);
  if (!Number.isInteger(opts.stride) || opts.stride < 1) throw new WildrayzerError(`--stride ${opts.stride}: must be a positive integer`);
  if (opts.maxFrames !== undefined && (!Number.isInteger(opts.maxFrames) || opts.maxFrames < 2)) {
    throw new WildrayzerError(`--max-frames ${opts.maxFrames}: must be an integer ≥ 2`);
  }
  const format = opts.format ?? detectFormat(path);
  if (!existsSync(path)) throw new WildrayzerError(`${path}: no such file or folder`);
  switch (format) {
    case "video":
      return readVideo(path, opts);
    case "images":
      return readImageFolder(path, opts);
    case "davis":
      return readDavis(path, opts);
    case "llff":
      return readLlff(path, opts);
    case "scene":
      return readSceneClip(path, opts);
  }
}

type Opts = ReadClipOptions & { crop: CropPolicy; stride: number };

/** Every `stride`-th item, at most `maxFrames`. */
function subsample<T>(xs: readonly T[], opts: Opts): T[] {
  const kept = xs.filter((_, i) => i % opts.stride === 0);
  return opts.maxFrames !== undefined ? kept.slice(0, opts.maxFrames) : kept;
}

type Source = { name: string; file: string; bytes?: Uint8Array; maskFile?: string };

/** Decodes frame (and mask) sources to the working size; checks counts and mixed sizes. */
async function decodeSources(path: string, format: ClipFormat, sources: readonly Source[], opts: Opts, extra: Partial<Clip> = {}): Promise<Clip> {
  if (sources.length < 2) {
    throw new WildrayzerError(`${path}: ${sources.length === 0 ? "no frames" : "only one frame"} found; a clip needs at least 2`);
  }
  const warnings: string[] = [...(extra.warnings ?? [])];
  const frames: Frame[] = [];
  const crops: CropMap[] = [];
  const notes = new Set<string>();
  for (const s of sources) {
    const bytes = s.bytes ?? readFileChecked(s.file, "a frame image");
    const wf = await decodeFrameToWorking(bytes, s.file, opts.native ? "native" : opts.size, opts.crop);
    if (wf.note) notes.add(wf.note);
    const frame: Frame = { name: s.name, image: wf.image };
    if (s.maskFile) frame.mask = await decodeMaskToWorking(readFileChecked(s.maskFile, "a mask image"), s.maskFile, wf.crop);
    frames.push(frame);
    crops.push(wf.crop);
  }
  for (const n of notes) warnings.push(n);
  const sizes = new Set(crops.map((c) => `${c.orig.w}×${c.orig.h}`));
  if (sizes.size > 1) {
    const list = [...sizes].join(", ");
    if (opts.native) throw new WildrayzerError(`${path}: frames have different sizes (${list}); working at the input's full size needs frames of one size`);
    if (opts.strict) throw new WildrayzerError(`${path}: frames have different sizes (${list}); drop --strict to crop and resize each on its own`);
    warnings.push(`frames have different sizes (${list}); each was cropped and resized on its own`);
  }
  return {
    name: basename(path, extname(path)),
    h: crops[0]!.size.h,
    w: crops[0]!.size.w,
    frames,
    format,
    source: path,
    crops,
    crop: opts.crop,
    warnings,
    ...extra,
  } as Clip;
}

async function readVideo(path: string, opts: Opts): Promise<Clip> {
  const { frames, ffmpeg } = extractFrames(path, {
    start: opts.start,
    duration: opts.duration,
    stride: opts.stride,
    maxFrames: opts.maxFrames,
  });
  const sources = frames.map((f) => ({ name: f.name, file: `${path} frame ${f.name}`, bytes: f.bytes }));
  return decodeSources(path, "video", sources, { ...opts, stride: 1, maxFrames: undefined }, { decoder: ffmpeg.source });
}

/** The frame folder of an image-folder clip: the folder itself, or its `frames/` or `images/`. */
function frameFolder(path: string): string {
  if (listImages(path).length > 0) return path;
  for (const sub of ["frames", "images"]) if (existsSync(join(path, sub)) && listImages(join(path, sub)).length > 0) return join(path, sub);
  throw new WildrayzerError(`${path}: no image files (JPEG, PNG, WebP, TIFF) found`);
}

async function readImageFolder(path: string, opts: Opts): Promise<Clip> {
  const files = subsample(listImages(frameFolder(path)), opts);
  return decodeSources(path, "images", files.map((f) => ({ name: stem(f), file: f })), opts);
}

/** DAVIS: `JPEGImages/[480p/]<seq>/` + `Annotations/[480p/]<seq>/`, or `frames/` + `masks/`; masks paired by stem. */
async function readDavis(path: string, opts: Opts): Promise<Clip> {
  let frameDir: string;
  let maskDir: string | undefined;
  if (existsSync(join(path, "JPEGImages"))) {
    frameDir = davisLeaf(join(path, "JPEGImages"), opts.sequence, path);
    const rel = frameDir.slice(join(path, "JPEGImages").length);
    const m = join(path, "Annotations", rel);
    maskDir = existsSync(m) ? m : undefined;
  } else {
    frameDir = join(path, "frames");
    maskDir = join(path, "masks");
  }
  const all = listImages(frameDir);
  if (all.length === 0) throw new WildrayzerError(`${frameDir}: no image files found`);
  const masks = maskDir ? new Map(listImages(maskDir).map((f) => [stem(f), f])) : new Map<string, string>();
  const warnings: string[] = [];
  if (maskDir && masks.size > 0) {
    const missing = all.filter((f) => !masks.has(stem(f)));
    if (missing.length > 0 || masks.size !== all.length) {
      throw new WildrayzerError(
        `${maskDir}: ${masks.size} masks for ${all.length} frames (${missing.length > 0 ? `no mask for ${basename(missing[0]!)}` : "masks without a frame"}); every frame needs a mask with the same name`,
      );
    }
  } else if (maskDir) {
    warnings.push(`${maskDir}: no masks found; reading frames only`);
  }
  const files = subsample(all, opts);
  return decodeSources(path, "davis", files.map((f) => ({ name: stem(f), file: f, maskFile: masks.get(stem(f)) })), opts, { warnings });
}

/** The folder of frames under a DAVIS `JPEGImages/`: itself, `<res>/<seq>`, or `<seq>` (by `sequence` when several). */
function davisLeaf(root: string, sequence: string | undefined, path: string): string {
  if (listImages(root).length > 0) return root;
  let dir = root;
  const subs = (d: string) => readdirSync(d).filter((n) => statSync(join(d, n)).isDirectory()).sort(natural.compare);
  // descend a resolution level (480p, Full-Resolution) when there is one
  const res = subs(dir).filter((n) => /^(\d+p|Full-Resolution)$/i.test(n));
  if (res.length > 0) dir = join(dir, res.includes("480p") ? "480p" : res[0]!);
  if (listImages(dir).length > 0) return dir;
  const seqs = subs(dir);
  if (sequence !== undefined) {
    if (!seqs.includes(sequence)) throw new WildrayzerError(`${path}: no sequence "${sequence}" (found ${seqs.slice(0, 10).join(", ")}${seqs.length > 10 ? ", …" : ""})`);
    return join(dir, sequence);
  }
  if (seqs.length === 1) return join(dir, seqs[0]!);
  throw new WildrayzerError(`${path}: ${seqs.length} sequences; choose one with --sequence (e.g. --sequence ${seqs[0] ?? "NAME"})`);
}

/** LLFF: `poses_bounds.npy` with `images/`, `images_N/` (the smallest with a short side ≥ the working size) or `frames/`. */
async function readLlff(path: string, opts: Opts): Promise<Clip> {
  const npyFile = join(path, "poses_bounds.npy");
  const npy = parseNpy(readFileChecked(npyFile, "LLFF poses (poses_bounds.npy)"), npyFile);
  if (npy.shape.length !== 2 || npy.shape[1] !== 17) {
    throw new WildrayzerError(`${npyFile}: poses_bounds.npy must have shape (N, 17), got (${npy.shape.join(", ")})`);
  }
  const dirs = readdirSync(path)
    .filter((n) => /^(images(_\d+)?|frames)$/.test(n) && statSync(join(path, n)).isDirectory())
    .sort((a, b) => factor(b) - factor(a)); // most downsampled first
  if (dirs.length === 0) throw new WildrayzerError(`${path}: LLFF folder has no images/ (or images_N/, frames/) beside poses_bounds.npy`);
  const n = npy.shape[0]!;
  const candidates = dirs.map((d) => ({ dir: join(path, d), files: listImages(join(path, d)) })).filter((c) => c.files.length > 0);
  const usable = candidates.filter((c) => c.files.length === n);
  if (usable.length === 0) {
    const got = candidates.map((c) => `${basename(c.dir)}/ has ${c.files.length}`).join(", ") || "no images";
    throw new WildrayzerError(`${npyFile}: ${n} poses but ${got} images; they must match one to one`);
  }
  const { default: sharp } = await import("sharp");
  // the first folder (most downsampled) whose frames are at least the working size
  let chosen = usable[usable.length - 1]!;
  for (const c of usable) {
    const m = await sharp(readFileChecked(c.files[0]!, "a frame image")).metadata();
    if (Math.min(m.height ?? 0, m.width ?? 0) >= opts.size) {
      chosen = c;
      break;
    }
  }
  const keep = chosen.files.map((f, i) => ({ f, i })).filter((_, j) => j % opts.stride === 0).slice(0, opts.maxFrames ?? Infinity);
  const clip = await decodeSources(path, "llff", keep.map(({ f }) => ({ name: stem(f), file: f })), opts);
  keep.forEach(({ i }, j) => {
    const crop = clip.crops[j]!;
    const cams = llffCameras({ shape: [1, 17], data: npy.data.subarray(17 * i, 17 * i + 17) }, crop.orig.h, crop.orig.w, npyFile);
    const cam = cams.cameras[0]!;
    clip.frames[j]!.camera = { c2w: cam.c2w, fxfycxcy: cropIntrinsics(cam.fxfycxcy, crop) };
  });
  return clip;
}

function factor(dir: string): number {
  const m = /_(\d+)$/.exec(dir);
  return dir === "frames" ? 0.5 : m ? Number(m[1]) : 1;
}

/** A scene folder or scene JSON (LVSM / our synthetic scenes), brought to the working size. */
async function readSceneClip(path: string, opts: Opts): Promise<Clip> {
  const dir = statSync(path).isFile() ? path.slice(0, -basename(path).length) || "." : path;
  if (statSync(path).isFile() && basename(path) !== "scene.json") {
    throw new WildrayzerError(`${path}: scene JSON files must be named scene.json inside their scene folder; give the folder`);
  }
  const { scene } = await readScene(dir);
  const keep = subsample(scene.frames, opts);
  if (keep.length < 2) throw new WildrayzerError(`${path}: ${keep.length === 0 ? "no frames" : "only one frame"} found; a clip needs at least 2`);
  const warnings: string[] = [];
  const [oh, ow] = opts.native ? [scene.h, scene.w] : [opts.size, opts.size];
  const crop = computeCrop(scene.h, scene.w, oh, ow, opts.native ? "stretch" : opts.crop);
  const same = scene.h === oh && scene.w === ow;
  const frames: Frame[] = [];
  for (const f of keep) {
    if (same) {
      frames.push(f);
      continue;
    }
    const out: Frame = { name: f.name, image: await resizePlanar(f.image, 3, scene.h, scene.w, crop) };
    if (f.static) out.static = await resizePlanar(f.static, 3, scene.h, scene.w, crop);
    if (f.mask) {
      const m = await resizePlanar(Float32Array.from(f.mask), 1, scene.h, scene.w, crop);
      out.mask = Uint8Array.from(m, (v) => (v >= 0.5 ? 1 : 0));
    }
    if (f.camera) out.camera = { c2w: f.camera.c2w, fxfycxcy: cropIntrinsics(f.camera.fxfycxcy, crop) };
    frames.push(out);
  }
  if (!same && keep.some((f) => f.depth)) warnings.push("depth maps were dropped (the scene is not at the working size)");
  return { ...scene, h: oh, w: ow, frames, format: "scene", source: path, crops: keep.map(() => crop), crop: opts.crop, warnings };
}

function stem(file: string): string {
  return basename(file, extname(file));
}

/**
 * Reads `dir` as one clip or, when it is not one, each of its sub-folders (sorted by name) as a clip: a folder of
 * scene folders, videos in folders, … A sub-folder that cannot be read is an error naming it.
 */
export async function readClips(dir: string, options: ReadClipOptions): Promise<Clip[]> {
  if (!existsSync(dir)) throw new WildrayzerError(`${dir}: no such file or folder`);
  try {
    return [await readClip(dir, options)];
  } catch (err) {
    const subs = statSync(dir).isDirectory()
      ? readdirSync(dir)
          .filter((n) => !n.startsWith(".") && statSync(join(dir, n)).isDirectory())
          .sort()
      : [];
    if (!(err instanceof WildrayzerError) || subs.length === 0) throw err;
    const clips: Clip[] = [];
    for (const s of subs) clips.push(await readClip(join(dir, s), options));
    return clips;
  }
}
