/**
 * The warp static renderer (src/pipeline/warpRenderer.ts) per target frame at the sample footage's size: ORB
 * features of the target and its neighbours, one homography per neighbour (RANSAC), the warps and the covered
 * median, on a 432×240 hand-made panning clip with a mover (the default 6 neighbours, spacing 1 so they all exist).
 * Host code and OpenCV.js, so no FLOP count. The pipeline's own cost after it is masks.bench.ts's.
 */
import { panClip } from "../test/helpers/panClip.ts";
import { warpRenderer } from "../src/pipeline/warpRenderer.ts";
import { loadOpenCv } from "../src/masks/refine.ts";
import { runBenchFile, type Prepared } from "./harness.ts";

await runBenchFile("warp", [
  {
    name: "warp renderer per frame",
    shape: "432×240, 6 neighbours",
    gflop: 0,
    reps: { full: 3, quick: 1 },
    warmup: { full: 1, quick: 1 },
    async setup(): Promise<Prepared> {
      await loadOpenCv();
      const clip = panClip({ frames: 7, h: 240, w: 432, panPx: 4, moverPx: 20, radius: 20, moverStart: [60, 120] });
      const renderer = warpRenderer({ neighbours: 6, spacing: 1 });
      return { call: async () => (await renderer.render(clip, [3]), []), teardown: () => {} };
    },
  },
]);
