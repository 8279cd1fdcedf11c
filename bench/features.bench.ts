/**
 * The frozen backbone (src/features): the bundled MobileNetV2 trunk's feature extraction (the two patch-feature
 * taps) and the perceptual distance's forward + backward (gradient with respect to the rendered images, as in
 * training), at 64² (batch 8) and 256² (batch 2). FLOPs: the trunk's convolutions, counted from the graph
 * (`kerasGraphGflop`); the backward pass counts 2× the forward; the perceptual distance runs the trunk on both
 * images (2×).
 */
import { grad, jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { dispose } from "../src/engine/params.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../src/features/mobilenetV2.ts";
import { perceptualDistance } from "../src/features/perceptual.ts";
import { buildKerasGraph } from "../src/features/kerasGraph.ts";
import { decodeTfjsWeights } from "../src/features/tfjsWeights.ts";
import { loadNsfwjsMobilenetFiles } from "../src/features/mobilenetV2.ts";
import { kerasGraphGflop } from "./flops.ts";
import { randomArray, runBenchFile, type BenchCase, type Prepared } from "./harness.ts";

const files = await loadNsfwjsMobilenetFiles();
const graph = buildKerasGraph(files.modelJson.modelTopology, decodeTfjsWeights(files.modelJson.weightsManifest, [files.shard], "nsfwjs"), "block_10_expand_relu", "nsfwjs");
const gflopPerImage = (s: number) => kerasGraphGflop(graph, s, s);

const extractCase = (s: number, b: number): BenchCase => ({
  name: "mobilenet features jit",
  shape: `b${b} ${s}²`,
  gflop: b * gflopPerImage(s),
  reps: { full: 9, quick: 2 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    const fx = await loadMobilenetV2();
    const x = (await randomArray(1, [b, 3, s, s])).mul(0.5).add(0.5);
    const f = jit((img: JArray) => [...fx.extract(img, [MOBILENET_TAPS.patch8, MOBILENET_TAPS.patch16]).values()]);
    return { call: () => f(x.ref), teardown: () => (dispose(x), f.dispose(), fx.dispose()) };
  },
});

const perceptualCase = (s: number, b: number): BenchCase => ({
  name: "perceptual fwd+bwd jit",
  shape: `b${b} ${s}²`,
  gflop: 3 * 2 * b * gflopPerImage(s),
  reps: { full: 7, quick: 2 },
  warmup: { full: 2, quick: 1 },
  async setup(): Promise<Prepared> {
    const fx = await loadMobilenetV2();
    const x = (await randomArray(2, [b, 3, s, s])).mul(0.5).add(0.5);
    const y = (await randomArray(3, [b, 3, s, s])).mul(0.5).add(0.5);
    const f = jit((a: JArray, t: JArray) => grad((p: JArray) => np.mean(perceptualDistance(fx, p, t)))(a));
    return { call: () => f(x.ref, y.ref), teardown: () => (dispose([x, y]), f.dispose(), fx.dispose()) };
  },
});

await runBenchFile("features", [extractCase(64, 8), extractCase(256, 2), perceptualCase(64, 8), perceptualCase(256, 2)]);
