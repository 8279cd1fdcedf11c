/**
 * A `Scene` (src/data/scene.ts) on disk: one folder per scene in LVSM's scene-JSON layout, extended with the
 * ground truth of synthetic scenes. `writeScene` writes it (every file atomically, `scene.json` last, so a
 * folder with a `scene.json` is complete); `readScene` reads it back, validating `scene.json` with a strict
 * schema and every image's size, and throws one-line `WildrayzerError`s that name the file.
 *
 * ```
 * scene.json          { scene_name, h?, w?, generator?: { seed, config }, frames: [frame, ...] }
 *                     frame = { image_path, fxfycxcy?, w2c?, static_path?, mask_path?, depth_path? }
 * images/00000.png    observed frame, 8-bit RGB            static/00000.png  the same view without movers
 * masks/00000.png     motion mask, 0 / 255 grey            depth/00000.png   16-bit depth in mm (images.ts)
 * ```
 *
 * Paths are relative to the folder (absolute ones are accepted). `fxfycxcy` is in pixels and `w2c` is the 4×4
 * world-to-camera matrix as nested rows, i.e. the inverse of our OpenCV c2w (src/geometry/cameras.ts); the two
 * come together or not at all (scenes without cameras). Reference: LVSM `data/dataset_scene.py` (scene JSON).
 * Writing the same scene twice gives byte-identical files (images.ts encoders are deterministic).
 */
import { join, isAbsolute, basename, extname } from "node:path";
import { z } from "zod";
import { WildrayzerError, formatIssues } from "../engine/errors.ts";
import { readFileChecked, writeFileAtomic } from "../engine/files.ts";
import type { Intrinsics } from "../geometry/cameras.ts";
import { rigidInverse } from "../geometry/mat4.ts";
import type { Frame, Scene } from "./scene.ts";
import { decodeDepth16, decodeImage, decodeMask, encodeDepthPng16, encodeMaskPng, encodePng, type ExpectedSize } from "./images.ts";

/** Where a synthetic scene came from: enough to regenerate it. */
export type GeneratorMeta = { seed: number; config: Record<string, unknown> };
/** Scene-level metadata stored beside the frames. */
export type SceneMeta = { generator?: GeneratorMeta };

const SCENE_JSON = "scene.json";
/** Tolerance on w2c's last row and on RᵀR = I (LVSM's poses are float32). */
const POSE_TOL = 1e-3;

const numbers = (n: number) =>
  z.array(z.number()).superRefine((a, ctx) => {
    if (a.length !== n) ctx.addIssue({ code: "custom", message: `must have ${n} numbers, got ${a.length}` });
  });

const FrameJsonSchema = z
  .strictObject({
    image_path: z.string().min(1),
    fxfycxcy: numbers(4).optional(),
    w2c: z.array(numbers(4)).superRefine((rows, ctx) => {
      if (rows.length !== 4) ctx.addIssue({ code: "custom", message: `must have 4 rows, got ${rows.length}` });
    }).optional(),
    static_path: z.string().min(1).optional(),
    mask_path: z.string().min(1).optional(),
    depth_path: z.string().min(1).optional(),
  })
  .superRefine((f, ctx) => {
    if ((f.fxfycxcy === undefined) !== (f.w2c === undefined)) {
      ctx.addIssue({ code: "custom", message: "fxfycxcy and w2c must be given together (or both left out)" });
    }
    if (f.fxfycxcy && f.fxfycxcy.length === 4 && !(f.fxfycxcy[0]! > 0 && f.fxfycxcy[1]! > 0)) {
      ctx.addIssue({ code: "custom", path: ["fxfycxcy"], message: "focal lengths fx, fy must be positive" });
    }
    if (f.w2c && f.w2c.length === 4 && f.w2c.every((r) => r.length === 4)) {
      const problem = rigidProblem(f.w2c.flat());
      if (problem) ctx.addIssue({ code: "custom", path: ["w2c"], message: problem });
    }
  });

const SceneJsonSchema = z.strictObject({
  scene_name: z.string(),
  h: z.number().int().positive().optional(),
  w: z.number().int().positive().optional(),
  generator: z.strictObject({ seed: z.number().int(), config: z.record(z.string(), z.unknown()) }).optional(),
  frames: z.array(FrameJsonSchema).min(1),
});
type SceneJson = z.infer<typeof SceneJsonSchema>;
type FrameJson = z.infer<typeof FrameJsonSchema>;

/**
 * Writes `scene` into folder `dir` (created if needed): the PNGs of every frame, then `scene.json`. File stems
 * are the frames' names when they are safe and unique (`00003`), else the frame index. Existing files of the same
 * names are replaced; other files in `dir` are left alone.
 */
export async function writeScene(dir: string, scene: Scene, meta: SceneMeta = {}): Promise<void> {
  const { h, w } = scene;
  const stems = fileStems(scene.frames);
  const files: [string, Promise<Uint8Array>][] = [];
  const frames: FrameJson[] = scene.frames.map((f, i) => {
    const stem = stems[i]!;
    const out: FrameJson = { image_path: `images/${stem}.png` };
    files.push([out.image_path, encodePng(f.image, h, w)]);
    if (f.camera) {
      out.fxfycxcy = [...f.camera.fxfycxcy];
      const w2c = rigidInverse(f.camera.c2w);
      out.w2c = [0, 1, 2, 3].map((r) => w2c.slice(4 * r, 4 * r + 4));
    }
    if (f.static) files.push([(out.static_path = `static/${stem}.png`), encodePng(f.static, h, w)]);
    if (f.mask) files.push([(out.mask_path = `masks/${stem}.png`), encodeMaskPng(f.mask, h, w)]);
    if (f.depth) files.push([(out.depth_path = `depth/${stem}.png`), encodeDepthPng16(f.depth, h, w)]);
    return out;
  });
  for (const [rel, bytes] of files) writeFileAtomic(join(dir, rel), await bytes);
  const json: SceneJson = { scene_name: scene.name, h, w, ...(meta.generator ? { generator: meta.generator } : {}), frames };
  writeFileAtomic(join(dir, SCENE_JSON), formatJson(json));
}

/**
 * Reads the scene folder `dir` written by `writeScene` (or any LVSM scene JSON with images). Frame names are the
 * image file stems. Throws a one-line `WildrayzerError` naming the file for: unreadable or invalid `scene.json`,
 * a missing or corrupt image, and an image whose size differs from `h`/`w` (or, without them, from the first frame).
 */
export async function readScene(dir: string): Promise<{ scene: Scene; meta: SceneMeta }> {
  const jsonPath = join(dir, SCENE_JSON);
  const text = new TextDecoder().decode(readFileChecked(jsonPath, "a scene JSON file"));
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new WildrayzerError(`${jsonPath}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = SceneJsonSchema.safeParse(raw);
  if (!parsed.success) throw new WildrayzerError(formatIssues(jsonPath, parsed.error.issues));
  const json = parsed.data;
  const file = (p: string) => (isAbsolute(p) ? p : join(dir, p));

  // The size every image must have: h/w from scene.json, else the first frame's.
  let size: Required<ExpectedSize> & { source: string };
  let first: Promise<{ image: Float32Array }> | undefined;
  if (json.h !== undefined && json.w !== undefined) {
    size = { h: json.h, w: json.w, source: `${SCENE_JSON} h/w` };
  } else {
    const path0 = file(json.frames[0]!.image_path);
    const img0 = await decodeImage(readFileChecked(path0, "a frame image"), path0, { h: json.h, w: json.w });
    size = { h: img0.h, w: img0.w, source: json.frames[0]!.image_path };
    first = Promise.resolve(img0);
  }
  const read = async <T>(p: string, what: string, decode: (b: Uint8Array, name: string, e: ExpectedSize) => Promise<T>) =>
    decode(readFileChecked(file(p), what), file(p), size);
  const readImage = (p: string, what: string) => read(p, what, decodeImage).then((d) => d.image);
  const pending = json.frames.map(async (f, i): Promise<Frame> => {
    const frame: Frame = { name: basename(f.image_path, extname(f.image_path)), image: new Float32Array(0) };
    const tasks: Promise<void>[] = [
      (i === 0 && first ? first.then((d) => d.image) : readImage(f.image_path, "a frame image")).then((x) => void (frame.image = x)),
    ];
    if (f.static_path) tasks.push(readImage(f.static_path, "a static image").then((x) => void (frame.static = x)));
    if (f.mask_path) tasks.push(read(f.mask_path, "a motion mask PNG", decodeMask).then((x) => void (frame.mask = x)));
    if (f.depth_path) tasks.push(read(f.depth_path, "a 16-bit depth PNG", decodeDepth16).then((x) => void (frame.depth = x)));
    await settleInOrder(tasks);
    if (f.fxfycxcy && f.w2c) frame.camera = { c2w: rigidInverse(f.w2c.flat()), fxfycxcy: f.fxfycxcy as Intrinsics };
    return frame;
  });
  const frames = await settleInOrder(pending);
  const meta: SceneMeta = json.generator ? { generator: json.generator } : {};
  return { scene: { name: json.scene_name, h: size.h, w: size.w, frames }, meta };
}

/** Like `Promise.all`, but waits for every promise and throws the first failure in list order (a stable message). */
async function settleInOrder<T>(ps: readonly (Promise<T> | T)[]): Promise<T[]> {
  const results = await Promise.allSettled(ps);
  return results.map((r) => {
    if (r.status === "rejected") throw r.reason;
    return r.value;
  });
}

/** Why a row-major 4×4 is not a rigid transform `[R t; 0 0 0 1]` with R a rotation, or undefined when it is. */
function rigidProblem(m: readonly number[]): string | undefined {
  const last = [m[12]!, m[13]!, m[14]!, m[15]!];
  if (last.some((v, i) => Math.abs(v - (i === 3 ? 1 : 0)) > POSE_TOL)) return `last row must be [0, 0, 0, 1], got [${last.join(", ")}]`;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dot = m[4 * 0 + i]! * m[4 * 0 + j]! + m[4 * 1 + i]! * m[4 * 1 + j]! + m[4 * 2 + i]! * m[4 * 2 + j]!;
      if (Math.abs(dot - (i === j ? 1 : 0)) > POSE_TOL) return "rotation part is not orthonormal";
    }
  }
  const det =
    m[0]! * (m[5]! * m[10]! - m[6]! * m[9]!) - m[1]! * (m[4]! * m[10]! - m[6]! * m[8]!) + m[2]! * (m[4]! * m[9]! - m[5]! * m[8]!);
  return det > 0 ? undefined : "rotation part is a reflection (determinant −1)";
}

/** Frame names as file stems when each is safe (letters, digits, `_.-`) and unique; else zero-padded indices. */
function fileStems(frames: readonly Frame[]): string[] {
  const names = frames.map((f) => f.name);
  const ok = names.every((n) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(n)) && new Set(names).size === names.length;
  return ok ? names : frames.map((_, i) => String(i).padStart(5, "0"));
}

/** Two-space JSON with every array of plain numbers on one line (`w2c` reads as four rows). */
function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/\[\s*([-+\d.eE,\s]+?)\s*\]/g, (_, inner: string) => `[${inner.replace(/\s*,\s*/g, ", ")}]`)}\n`;
}
