/**
 * The windows that give every frame of a clip a static rendering (clip masks, the browser viewer's residuals): see
 * src/pipeline/clipMasks.ts for the windowing rule. No backbone, no OpenCV: safe for the browser.
 */
import { clipWindows, type ViewWindow } from "../data/sampling.ts";

/** One window of a clip: frame indices, inputs first. */
export type MaskWindow = ViewWindow;

/** The windows that give every frame of an `n`-frame clip a mask, for a model of `views` views and 2 inputs. */
export function maskWindows(n: number, views: number): MaskWindow[] {
  const windows: MaskWindow[] = clipWindows(n, views);
  const covered = new Set(windows.flatMap((w) => w.targets));
  const add = (start: number, inputs: number[]) => {
    const frames = Array.from({ length: views }, (_, i) => start + i);
    const targets = frames.filter((f) => !inputs.includes(f));
    windows.push({ inputs, targets });
    for (const t of targets) covered.add(t);
  };
  for (let f = 0; f < n; f++) {
    if (covered.has(f)) continue;
    const start = Math.max(0, Math.min(n - views, f - Math.floor(views / 2)));
    const frames = Array.from({ length: views }, (_, i) => start + i).filter((x) => x !== f);
    add(start, [frames[0]!, frames[frames.length - 1]!]);
  }
  return windows;
}

