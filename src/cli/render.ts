/**
 * `wildrayzer render --ckpt C --input PATH --out DIR`: novel views of real footage or a scene folder from a
 * trained checkpoint (src/pipeline/novelViews.ts). Writes, all atomically:
 *   DIR/novel/00000.png …      the path's novel views at the working size
 *   DIR/path.mp4, DIR/path.gif the same, enlarged (nearest neighbour) so the pixels can be seen
 *   DIR/reconstructions/<frame>.png   in-between frames re-rendered from their estimated cameras
 *   DIR/cameras.json           estimated cameras per used frame (working size and the original frame's pixels)
 *                              and the path's cameras
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
import { addClipOptions, loadModelAndClip, type ClipFlags } from "./clipOptions.ts";
import type { GlobalOptions } from "./main.ts";
import { createProgress, formatDuration } from "./progress.ts";

type RenderFlags = ClipFlags & { ckpt: string; input: string; out: string; path: PathKind; frames: string; fps: string };

export function registerRender(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command("render")
    .description("render novel views of a clip from a trained checkpoint: PNGs, an MP4/GIF of the path and the estimated cameras")
    .requiredOption("--ckpt <file>", "a checkpoint or model file (e.g. models/small.safetensors)")
    .requiredOption("--input <path>", "a video, a folder of frames, a DAVIS/LLFF folder or a scene folder")
    .requiredOption("--out <dir>", "output folder")
    .addOption(new Option("--path <kind>", "camera path: through the estimated cameras, or a small orbit around the first input").choices(PATH_KINDS).default("interpolate"))
    .option("--frames <n>", "cameras on the path", "30")
    .option("--fps <n>", "frame rate of the video", "10");
  addClipOptions(cmd).action(async (flags: RenderFlags) => {
    const g = globals();
    const frames = Number(flags.frames);
    if (!Number.isInteger(frames) || frames < 2 || frames > 2000) throw new WildrayzerError(`--frames ${flags.frames}: expected an integer in [2, 2000]`);
    const fps = Number(flags.fps);
    if (!(fps > 0 && fps <= 120)) throw new WildrayzerError(`--fps ${flags.fps}: expected a number in (0, 120]`);
    const t0 = performance.now();
    await startEngine({ device: g.device });
    const { params, meta, clip } = await loadModelAndClip(flags.ckpt, flags.input, flags);
    const model = meta.model;
    const progress = createProgress({ label: "render", total: frames, quiet: g.quiet });
    const r = await renderNovelViews(params, model, clip, { path: flags.path, frames, onProgress: (d) => progress.update(d) });
    dispose(params);
    progress.stop(`${r.images.length} novel views`);
    const { h, w } = clip;
    const pngs = await Promise.all(r.images.map((im) => encodePng(im, h, w)));
    pngs.forEach((b, i) => writeFileAtomic(join(flags.out, "novel", `${String(i).padStart(5, "0")}.png`), b));
    for (const [f, im] of r.reconstructions) writeFileAtomic(join(flags.out, "reconstructions", `${clip.frames[f]!.name}.png`), await encodePng(im, h, w));
    const scale = Math.max(1, Math.ceil(256 / Math.max(h, w)));
    const big = await Promise.all(pngs.map((b) => sharp(b).resize(w * scale, h * scale, { kernel: "nearest" }).png().toBuffer()));
    const ff = encodeVideo(big, join(flags.out, "path.mp4"), fps);
    encodeVideo(big, join(flags.out, "path.gif"), fps);
    const cams = {
      checkpoint: flags.ckpt,
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
    };
    writeFileAtomic(join(flags.out, "cameras.json"), `${JSON.stringify(cams, null, 1)}\n`);
    if (g.verbose) process.stdout.write(`video encoder: ${ff.source}\n`);
    if (!g.quiet) {
      process.stdout.write(`inputs: frames ${r.inputs.map((f) => clip.frames[f]!.name).join(", ")}; ${r.reconstructions.length} in-between frames re-rendered\n`);
    }
    process.stdout.write(`wrote ${join(flags.out, "novel")}/ (${r.images.length} PNGs), path.mp4, path.gif, cameras.json (${formatDuration(performance.now() - t0)})\n`);
  });
}
