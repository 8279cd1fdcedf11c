/**
 * `wildrayzer render --input PATH --out DIR [--ckpt C]` (default: the shipped model): novel views of real footage or a scene folder from a
 * trained checkpoint (src/pipeline/novelViews.ts). Writes, all atomically:
 *   DIR/novel/00000.png …      the path's novel views at the working size
 *   DIR/path.mp4, DIR/path.gif the same, enlarged (nearest neighbour) so the pixels can be seen
 *   DIR/reconstructions/<frame>.png   in-between frames re-rendered from their estimated cameras
 *   DIR/cameras.json           estimated cameras per used frame (working size and the original frame's pixels)
 *                              and the path's cameras
 *   --dump FILE                the raw outputs as float32 safetensors: cameras (c2w, fxfycxcy in pixels and
 *                              normalised) of the used frames, the reconstructions and the novel views with the
 *                              path's cameras (and `tokens.keep`, the inputs' token keep-mask [k, n], when
 *                              tokens were masked); frame names and roles in its metadata
 * `--ckpt` also takes the official weights (`.pt`), converted on the fly (see `convert`).
 * `--token-masks motion|none`: render from the input views' tokens with the dynamic ones replaced (the motion
 * estimator's masks, src/pipeline/maskedInputs.ts); default: masked for a stage-3 model file, not for stage 1/2.
 */
import { join } from "node:path";
import { Option, type Command } from "commander";
import sharp from "sharp";
import { startEngine } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { dispose } from "../engine/params.ts";
import { encodePng } from "../data/images.ts";
import { uncropIntrinsics } from "../data/crop.ts";
import { encodeVideo } from "../data/readers/index.ts";
import { PATH_KINDS, renderNovelViews, type PathKind } from "../pipeline/novelViews.ts";
import { encodeSafetensors } from "../engine/safetensors.ts";
import { addClipOptions, loadModelAndClip, type ClipFlags } from "./clipOptions.ts";
import { addOfficialOptions, describeOfficial, type OfficialFlags } from "./officialOptions.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress, formatDuration } from "./progress.ts";
import { pickRuntime, runtimeOption } from "./runtime.ts";
import type { Runtime } from "../pipeline/onnxForward.ts";
import { checkOutDir, OUT_HELP } from "./outDir.ts";
import { DEFAULT_MODEL } from "../model/loadFile.ts";
import { loadMobilenetV2 } from "../features/mobilenetV2.ts";
import { describeTokenMasks, makeInputMasker, resolveTokenMasks, type TokenMaskMode } from "../pipeline/maskedInputs.ts";
import { tokenMasksOption } from "./tokenMasksOption.ts";

/** What `render` owns in its output folder. */
export const RENDER_OUTPUTS = ["novel", "reconstructions", "path.mp4", "path.gif", "cameras.json"];

type RenderFlags = ClipFlags & OfficialFlags & { ckpt?: string; input: string; out: string; path: PathKind; frames: string; fps: string; dump?: string; runtime?: Runtime; tokenMasks?: TokenMaskMode };

export function registerRender(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command("render")
    .description("render novel views of a clip from a trained checkpoint: PNGs, an MP4/GIF of the path and the estimated cameras")
    .option("--ckpt <file>", "a checkpoint or model file, or official weights (.pt) (default: the shipped models/small.safetensors)")
    .requiredOption("--input <path>", "a video, a folder of frames, a DAVIS/LLFF folder or a scene folder")
    .requiredOption("--out <dir>", OUT_HELP)
    .addOption(new Option("--path <kind>", "camera path: through the estimated cameras, or a small orbit around the first input").choices(PATH_KINDS).default("interpolate"))
    .option("--frames <n>", "cameras on the path", "30")
    .option("--fps <n>", "frame rate of the video", "10")
    .option("--dump <file>", "also write the raw outputs (cameras, intrinsics, renders) as a float32 safetensors file")
    .addOption(runtimeOption())
    .addOption(tokenMasksOption());
  addOfficialOptions(addClipOptions(cmd)).action(async (flags: RenderFlags) => {
    const g = globals();
    const frames = Number(flags.frames);
    if (!Number.isInteger(frames) || frames < 2 || frames > 2000) throw new WildrayzerError(`--frames ${flags.frames}: expected an integer in [2, 2000]`);
    const fps = Number(flags.fps);
    if (!(fps > 0 && fps <= 120)) throw new WildrayzerError(`--fps ${flags.fps}: expected a number in (0, 120]`);
    const outDir = checkOutDir(flags.out, "render", { names: RENDER_OUTPUTS });
    const ckpt = flags.ckpt ?? DEFAULT_MODEL;
    const t0 = performance.now();
    await startEngine({ device: g.device });
    const { params, meta, clip, official } = await loadModelAndClip(ckpt, flags.input, flags);
    const model = meta.model;
    if (official && !g.quiet) for (const line of describeOfficial(official)) process.stdout.write(`${line}\n`);
    let masks: TokenMaskMode;
    let r: Awaited<ReturnType<typeof renderNovelViews>>;
    try {
      masks = resolveTokenMasks(flags.tokenMasks, meta.stage, params, model, ckpt);
      const fx = masks === "motion" ? await loadMobilenetV2() : null;
      const masker = fx ? makeInputMasker(params, model, fx) : undefined;
      const progress = createProgress({ label: "render", total: frames, quiet: g.quiet });
      try {
        r = await renderNovelViews(params, model, clip, { path: flags.path, frames, runtime: pickRuntime(flags.runtime, g.device), ...(masker ? { masker } : {}), onProgress: (d) => progress.update(d) });
      } finally {
        masker?.dispose();
        fx?.dispose();
      }
      progress.stop(`${r.images.length} novel views`);
    } finally {
      dispose(params);
    }
    // official weights load as stage 1 without their motion head (src/model/official.ts drops it): no masks to make
    const tokenText =
      official && masks === "none" && !flags.tokenMasks
        ? "input tokens not masked (official weights load without their motion head)"
        : describeTokenMasks(masks, flags.tokenMasks, meta.stage, masks === "motion" ? r.dropped : undefined);
    outDir.claim();
    const { h, w } = clip;
    const pngs = await Promise.all(r.images.map((im) => encodePng(im, h, w)));
    pngs.forEach((b, i) => writeFileAtomic(join(flags.out, "novel", `${String(i).padStart(5, "0")}.png`), b));
    for (const [f, im] of r.reconstructions) writeFileAtomic(join(flags.out, "reconstructions", `${clip.frames[f]!.name}.png`), await encodePng(im, h, w));
    const scale = Math.max(1, Math.ceil(256 / Math.max(h, w)));
    const big = await Promise.all(pngs.map((b) => sharp(b).resize(w * scale, h * scale, { kernel: "nearest" }).png().toBuffer()));
    const ff = encodeVideo(big, join(flags.out, "path.mp4"), fps);
    encodeVideo(big, join(flags.out, "path.gif"), fps);
    const cams = {
      checkpoint: ckpt,
      step: meta.step,
      input: flags.input,
      workingSize: [w, h],
      convention: "OpenCV camera-to-world (x right, y down, z forward), relative to the first input; fxfycxcy in pixels",
      frames: r.used.map((f, i) => ({
        name: clip.frames[f]!.name,
        role: r.inputs.includes(f) ? "input" : "target",
        c2w: r.cameras[i]!.c2w,
        fxfycxcy: r.cameras[i]!.fxfycxcy,
        fxfycxcyOriginal: uncropIntrinsics(r.cameras[i]!.fxfycxcy, clip.crops[f]!),
      })),
      path: { kind: flags.path, cameras: r.path },
      tokenMasks: { mode: masks, stage: meta.stage, dropped: r.dropped, note: tokenText },
    };
    writeFileAtomic(join(flags.out, "cameras.json"), `${JSON.stringify(cams, null, 1)}\n`);
    if (flags.dump) writeFileAtomic(flags.dump, dumpOutputs(r, h, w, { checkpoint: ckpt, input: flags.input, frames: r.used.map((f) => clip.frames[f]!.name), inputs: r.inputs.map((f) => clip.frames[f]!.name), tokenMasks: masks }));
    if (g.verbose) process.stdout.write(`video encoder: ${ff.source}\n`);
    if (!g.quiet) {
      process.stdout.write(`inputs: frames ${r.inputs.map((f) => clip.frames[f]!.name).join(", ")}; ${r.reconstructions.length} in-between frames re-rendered; ${tokenText}\n`);
    }
    const dumped = flags.dump ? `, ${flags.dump}` : "";
    process.stdout.write(`wrote ${join(flags.out, "novel")}/ (${r.images.length} PNGs), path.mp4, path.gif, cameras.json${dumped} (${formatDuration(performance.now() - t0)})\n`);
  });
}

/** The raw outputs of a render as safetensors bytes (float32; names in the `--dump` help above). */
export function dumpOutputs(r: Awaited<ReturnType<typeof renderNovelViews>>, h: number, w: number, info: Record<string, unknown>): Uint8Array {
  const img = 3 * h * w;
  const stack = (ims: Float32Array[]) => {
    const out = new Float32Array(ims.length * img);
    ims.forEach((im, i) => out.set(im, i * img));
    return out;
  };
  const norm = (k: readonly number[]) => [k[0]! / w, k[1]! / h, k[2]! / w, k[3]! / h];
  const u = r.cameras.length;
  const tensors = [
    { name: "cameras.c2w", shape: [u, 4, 4], data: Float32Array.from(r.cameras.flatMap((c) => c.c2w)) },
    { name: "cameras.fxfycxcy", shape: [u, 4], data: Float32Array.from(r.cameras.flatMap((c) => c.fxfycxcy)) },
    { name: "cameras.fxfycxcy_normalized", shape: [u, 4], data: Float32Array.from(r.cameras.flatMap((c) => norm(c.fxfycxcy))) },
    { name: "renders.reconstructions", shape: [r.reconstructions.length, 3, h, w], data: stack(r.reconstructions.map(([, im]) => im)) },
    { name: "renders.novel", shape: [r.images.length, 3, h, w], data: stack(r.images) },
    { name: "path.c2w", shape: [r.path.length, 4, 4], data: Float32Array.from(r.path.flatMap((c) => c.c2w)) },
    { name: "path.fxfycxcy", shape: [r.path.length, 4], data: Float32Array.from(r.path.flatMap((c) => c.fxfycxcy)) },
    ...(r.keep ? [{ name: "tokens.keep", shape: [r.inputs.length, r.keep.length / r.inputs.length], data: r.keep }] : []),
  ];
  const meta = { ...info, reconstructed: r.reconstructions.map(([f]) => f), convention: "OpenCV camera-to-world relative to the first input; fxfycxcy in pixels of the working size (and normalised: fx/W, fy/H, cx/W, cy/H); images [3, h, w] in [0, 1]" };
  return encodeSafetensors(tensors, { wildrayzer_render: JSON.stringify(meta) });
}
