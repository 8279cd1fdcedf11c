/**
 * Frames for the viewer, decoded in the page: dropped images (any format the browser decodes, in natural name
 * order) or a short video (a `<video>` element seeked to evenly spaced times, each drawn on a canvas). Every frame
 * is brought to the model's square working size as the CLI does by default: the largest centred square, resized
 * (here by the browser's high-quality canvas filter, not Lanczos, so pixels differ slightly from `wildrayzer render`).
 */
import type { Scene } from "../data/scene.ts";
import { WildrayzerError } from "../engine/errors.ts";

/** RGBA bytes [h, w, 4] → planar float RGB [3, h, w] in [0, 1]. */
export function rgbaToPlanar(rgba: Uint8ClampedArray, h: number, w: number): Float32Array {
  const n = h * w;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = rgba[4 * i + c]! / 255;
  return out;
}

/** Planar float RGB [3, h, w] → RGBA bytes (opaque). */
export function planarToRgba(img: Float32Array, h: number, w: number): Uint8ClampedArray<ArrayBuffer> {
  const n = h * w;
  const out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round(Math.min(1, Math.max(0, img[c * n + i]!)) * 255);
    out[4 * i + 3] = 255;
  }
  return out;
}

/** `count` indices spread evenly over `n` (all of them when n ≤ count). */
export function pickEven(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.round((i * (n - 1)) / (count - 1)));
}

/** Draws the centred square of `src` (of size sw × sh) at size × size and returns it planar. */
function squareFrame(src: CanvasImageSource, sw: number, sh: number, size: number): Float32Array {
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  const side = Math.min(sw, sh);
  ctx.drawImage(src, Math.floor((sw - side) / 2), Math.floor((sh - side) / 2), side, side, 0, 0, size, size);
  return rgbaToPlanar(ctx.getImageData(0, 0, size, size).data, size, size);
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** Images or one video → a clip at `size`², at most `maxFrames` frames spread evenly. */
export async function framesFromFiles(files: readonly File[], size: number, maxFrames: number, onProgress?: (done: number, total: number) => void): Promise<Scene> {
  const videos = files.filter((f) => f.type.startsWith("video/") || /\.(mp4|webm|mov|mkv|m4v|ogv)$/i.test(f.name));
  if (videos.length > 0) return framesFromVideo(videos[0]!, size, maxFrames, onProgress);
  const images = files.filter((f) => f.type.startsWith("image/") || /\.(jpe?g|png|webp|gif|bmp|avif)$/i.test(f.name)).sort((a, b) => collator.compare(a.name, b.name));
  if (images.length === 0) throw new WildrayzerError("dropped files: no images or video among them (drop a few frames or a short video)");
  const chosen = pickEven(images.length, maxFrames).map((i) => images[i]!);
  const frames = [];
  for (const [i, file] of chosen.entries()) {
    let bmp: ImageBitmap;
    try {
      bmp = await createImageBitmap(file);
    } catch {
      throw new WildrayzerError(`${file.name}: the browser cannot decode this image`);
    }
    frames.push({ name: file.name.replace(/\.[^.]+$/, ""), image: squareFrame(bmp, bmp.width, bmp.height, size) });
    bmp.close();
    onProgress?.(i + 1, chosen.length);
  }
  return { name: chosen.length === images.length ? `${images.length} frames` : `${chosen.length} of ${images.length} frames`, h: size, w: size, frames };
}

/**
 * Seeks `video` to `t` and resolves once the frame there can be drawn. `seeked` alone can fire before the new frame
 * is presented (a canvas then still gets the previous one: seen under load in headless Chromium), so where the
 * browser has `requestVideoFrameCallback` we also wait for the frame's presentation, at most 250 ms after `seeked`
 * (a seek that lands on the frame already shown presents nothing new).
 */
function seekTo(video: HTMLVideoElement, t: number): Promise<void> {
  type FrameCallbackVideo = HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
  const v = video as FrameCallbackVideo;
  return new Promise<void>((res) => {
    let presented = false;
    let seeked = false;
    const maybeDone = () => {
      if (seeked && (presented || !v.requestVideoFrameCallback)) res();
    };
    v.requestVideoFrameCallback?.(() => {
      presented = true;
      maybeDone();
    });
    video.onseeked = () => {
      seeked = true;
      maybeDone();
      setTimeout(res, 250);
    };
    video.currentTime = t;
  });
}

/** A video file → `maxFrames` frames at evenly spaced times (the whole clip, at most its first 60 s). */
export async function framesFromVideo(file: File, size: number, maxFrames: number, onProgress?: (done: number, total: number) => void): Promise<Scene> {
  const url = URL.createObjectURL(file);
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  video.src = url;
  try {
    await new Promise<void>((res, rej) => {
      video.onloadeddata = () => res();
      video.onerror = () => rej(new WildrayzerError(`${file.name}: the browser cannot decode this video (try MP4/H.264 or WebM, or drop frames)`));
    });
    const duration = Math.min(60, Number.isFinite(video.duration) ? video.duration : 0);
    if (!(duration > 0)) throw new WildrayzerError(`${file.name}: the video has no duration`);
    const frames = [];
    for (let i = 0; i < maxFrames; i++) {
      const t = ((i + 0.5) * duration) / maxFrames;
      await seekTo(video, t);
      frames.push({ name: `t${t.toFixed(2)}s`, image: squareFrame(video, video.videoWidth, video.videoHeight, size) });
      onProgress?.(i + 1, maxFrames);
    }
    return { name: `${file.name} (${maxFrames} frames)`, h: size, w: size, frames };
  } finally {
    URL.revokeObjectURL(url);
  }
}
