/**
 * The model's jitted forward pass for inference, written once: host images in, host renders and cameras out.
 * `estimate` runs the camera estimator and renders views k … v−1 from the cameras it predicts; `withCameras`
 * renders them from given cameras (identity or ground-truth diagnostics, novel-view paths). Both take the input
 * views' token keep-mask (`opts.keep`: a stage-3 model's masked tokens, src/pipeline/maskedInputs.ts). Shapes are static
 * per call signature, so each distinct batch shape compiles once. Parameters are never consumed.
 */
import { identityCameraArrays } from "../geometry/cameras.ts";
import { blockUntilReady, jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { runBlock, type BlockParams } from "../engine/layers.ts";
import { ref } from "../engine/params.ts";
import { camerasFromInfo, cameraSequence, runPoseHeads, type Cameras } from "../model/cameraEstimator.ts";
import { blockConfig, splitViews, tokensPerView, type ModelConfig } from "../model/config.ts";
import { cameraRays, runRayZer, takeViews, type RayZerParams } from "../model/rayzer.ts";
import { rendererHead, rendererSequence } from "../model/renderer.ts";
import { sceneSequence } from "../model/sceneEncoder.ts";
import { runTokenizer } from "../model/tokens.ts";
import { makeOnnxForward, type Runtime } from "./onnxForward.ts";

export type Shape5 = [number, number, number, number, number];

export type ForwardResult = {
  /** [b, v − k, 3, h, w] renders of the targets, in [0, 1]. */
  renders: Float32Array;
  /** [b, v, 4, 4] predicted camera-to-world, relative to view 0. */
  c2w: Float32Array;
  /** [b, v, 4] predicted normalised intrinsics. */
  fxfycxcy: Float32Array;
};

export type ForwardOptions = {
  /**
   * The scene encoder's token keep-mask [b, k, n] of the input views (1 = kept, 0 = a dynamic token, replaced:
   * src/model/maskedTokens.ts); absent: every token is kept.
   */
  keep?: Float32Array;
};

export type Forward = {
  estimate(params: RayZerParams, images: Float32Array, shape: Shape5, opts?: ForwardOptions): Promise<ForwardResult>;
  withCameras(params: RayZerParams, images: Float32Array, shape: Shape5, c2w: Float32Array, fxfycxcy: Float32Array, opts?: ForwardOptions): Promise<Float32Array>;
  /** Renders from identity cameras with the model's default focal (the "are the cameras used?" diagnostic). */
  identity(params: RayZerParams, images: Float32Array, shape: Shape5, opts?: ForwardOptions): Promise<Float32Array>;
  dispose(): void;
};

/** `base` and its `identity`: renders from identity cameras with the model's initial focal, the same for every runtime. */
function withIdentity(model: ModelConfig, base: Omit<Forward, "identity">): Forward {
  return {
    ...base,
    identity(params, images, shape, opts = {}) {
      const { c2w, fxfycxcy } = identityCameraArrays(shape[0] * shape[1], model.focalInit);
      return base.withCameras(params, images, shape, c2w, fxfycxcy, opts);
    },
  };
}

/** The forward on `runtime`: jax-js (jitted, on the engine's device) or ONNX Runtime (src/pipeline/onnxForward.ts). */
export function makeForward(model: ModelConfig, runtime: Runtime = "jax"): Forward {
  if (runtime === "onnx") return withIdentity(model, makeOnnxForward(model));
  const est = jit((p: RayZerParams, x: JArray) => {
    const out = runRayZer(p, x, model);
    return [out.renders, out.cameras.c2w, out.cameras.fxfycxcy];
  });
  const estKeep = jit((p: RayZerParams, x: JArray, keep: JArray) => {
    const out = runRayZer(p, x, model, { keep });
    return [out.renders, out.cameras.c2w, out.cameras.fxfycxcy];
  });
  const given = jit((p: RayZerParams, x: JArray, c2w: JArray, k4: JArray) => runRayZer(p, x, model, { cameras: { c2w, fxfycxcy: k4 } }).renders);
  const givenKeep = jit((p: RayZerParams, x: JArray, c2w: JArray, k4: JArray, keep: JArray) => runRayZer(p, x, model, { cameras: { c2w, fxfycxcy: k4 }, keep }).renders);
  const arr = (x: Float32Array, shape: number[]) => np.array(x).reshape(shape);
  const withCameras = async (params: RayZerParams, images: Float32Array, shape: Shape5, c2w: Float32Array, fxfycxcy: Float32Array, opts: ForwardOptions = {}) => {
    const [b, v] = shape;
    const cams = [arr(c2w, [b, v, 4, 4]), arr(fxfycxcy, [b, v, 4])] as const;
    const out = (
      opts.keep ? givenKeep(ref(params), arr(images, shape), ...cams, arr(opts.keep, [b, model.inputViews, tokensPerView(model)])) : given(ref(params), arr(images, shape), ...cams)
    ) as JArray;
    return (await out.data()) as Float32Array;
  };
  return withIdentity(model, {
    async estimate(params, images, shape, opts = {}) {
      const [b] = shape;
      const [renders, c2w, k4] = (
        opts.keep ? estKeep(ref(params), arr(images, shape), arr(opts.keep, [b, model.inputViews, tokensPerView(model)])) : est(ref(params), arr(images, shape))
      ) as JArray[];
      return { renders: (await renders!.data()) as Float32Array, c2w: (await c2w!.data()) as Float32Array, fxfycxcy: (await k4!.data()) as Float32Array };
    },
    withCameras,
    dispose() {
      est.dispose();
      estKeep.dispose();
      given.dispose();
      givenKeep.dispose();
    },
  });
}

/**
 * `estimate` for models too large for one graph: the three parts of the model (cameras, scene, renderer) run one
 * transformer block at a time, each block jitted and awaited before the next, and the targets `chunk` views at a
 * time. jax-js 0.1.25 keeps every intermediate buffer of a jitted graph alive until the graph has run (and its wasm
 * allocator reuses a freed buffer only for one of the same size), so the one-graph forward of a paper-size model
 * (d 768, 8 views of 256 tokens) needs more than wasm's 4 GiB; block by block it needs one block's intermediates
 * (docs/OFFICIAL.md, BENCHMARKS.md). Same results as `makeForward(model)`.
 */
export function makeStagedForward(model: ModelConfig, opts: { chunk?: number } = {}): Forward {
  const chunk = opts.chunk ?? 1;
  const bc = blockConfig(model);
  const block = jit((p: BlockParams, x: JArray) => runBlock(p, x, bc));
  const stack = async (blocks: readonly BlockParams[], x: JArray): Promise<JArray> => {
    for (const p of blocks) {
      x = block(ref(p), x) as JArray;
      await blockUntilReady(x);
    }
    return x;
  };
  /** Renders the targets with the estimated cameras, or with `given` ones (host arrays, consumed as arrays). */
  const run = async (params: RayZerParams, images: Float32Array, shape: Shape5, given?: { c2w: Float32Array; k4: Float32Array }, keep?: Float32Array): Promise<ForwardResult> => {
    const [b, v, , h, w] = shape;
    const { inputs: inputIdx, targets } = splitViews(model, v);
    const tokens = runTokenizer(ref(params.tokenizer), np.array(images).reshape(shape), model); // [b, v, n, d]
    let cams: Cameras;
    if (given) cams = { c2w: np.array(given.c2w).reshape([b, v, 4, 4]), fxfycxcy: np.array(given.k4).reshape([b, v, 4]) };
    else {
      const { focalHead, poseHead, blocks: camBlocks, ...camRest } = params.cameraEstimator;
      const camOut = (await stack(camBlocks, cameraSequence(ref(camRest), tokens.ref, model))).slice([], [0, v]); // [b, v, d]
      cams = camerasFromInfo(runPoseHeads(ref({ focalHead, poseHead }), camOut, model));
    }
    const rays = cameraRays({ c2w: cams.c2w.ref, fxfycxcy: cams.fxfycxcy.ref }, h, w); // [b, v, 6, h, w]
    const { blocks: encBlocks, ...encRest } = params.sceneEncoder;
    const { seq, inputs } = sceneSequence(ref(encRest), takeViews(tokens, inputIdx), takeViews(rays.ref, inputIdx), keep ? np.array(keep).reshape([b, inputIdx.length, tokensPerView(model)]) : null, model);
    const latent = (await stack(encBlocks, seq)).slice([], [0, model.sceneTokens]); // [b, S, d]
    const { blocks: renBlocks, outNorm, head, ...renRest } = params.renderer;
    const img = 3 * h * w;
    const renders = new Float32Array(b * targets.length * img);
    for (let s = 0; s < targets.length; s += chunk) {
      const views = targets.slice(s, s + chunk);
      const q = rendererSequence(ref(renRest), takeViews(rays.ref, views), latent.ref, inputs.ref, model); // [b·t, n + m, d]
      const out = rendererHead(ref({ outNorm, head }), await stack(renBlocks, q), b, views.length, model); // [b, t, 3, h, w]
      const data = (await out.data()) as Float32Array;
      for (let bi = 0; bi < b; bi++) renders.set(data.subarray(bi * views.length * img, (bi + 1) * views.length * img), (bi * targets.length + s) * img);
    }
    rays.dispose();
    latent.dispose();
    inputs.dispose();
    return { renders, c2w: (await cams.c2w.data()) as Float32Array, fxfycxcy: (await cams.fxfycxcy.data()) as Float32Array };
  };
  const withCameras = async (params: RayZerParams, images: Float32Array, shape: Shape5, c2w: Float32Array, k4: Float32Array, opts: ForwardOptions = {}) =>
    (await run(params, images, shape, { c2w, k4 }, opts.keep)).renders;
  return withIdentity(model, {
    estimate: (params, images, shape, opts = {}) => run(params, images, shape, undefined, opts.keep),
    withCameras,
    dispose() {
      block.dispose();
    },
  });
}

/**
 * The forward inference code should use: ONNX Runtime when asked (native kernels; any size), else one jitted
 * graph (`makeForward`) unless the camera estimator's attention maps alone would take more than 1 GiB in one graph
 * (a paper-size model), then block by block (`makeStagedForward`).
 */
export function makeInferenceForward(model: ModelConfig, runtime: Runtime = "jax"): Forward {
  if (runtime === "onnx") return withIdentity(model, makeOnnxForward(model));
  const seq = model.views * (1 + tokensPerView(model) / model.cameraPool ** 2);
  const attentionBytes = seq * seq * model.heads * 4 * model.layers.camera;
  return attentionBytes > 2 ** 30 ? makeStagedForward(model) : makeForward(model);
}
