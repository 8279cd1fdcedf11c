/**
 * Camera estimator (RayZer's E_cam, docs/METHOD.md §2.5): one learned camera token per view (plus the view-index embedding
 * when enabled) is prepended to all views' image tokens; a transformer stack reads them; small heads turn the
 * camera tokens into a pose per view relative to the canonical view (6D rotation + translation) and one
 * shared focal length. The canonical view (the first, or the middle one with `canonicalView: "middle"`) is fixed
 * at the identity. Output cameras are OpenCV camera-to-world matrices and
 * normalised intrinsics `[f, f, 0.5, 0.5]` (fx / W, fy / H, cx / W, cy / H).
 */
import { nn, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { initLinear, linear, type Linear } from "../engine/layers.ts";
import { dispose, truncNormal } from "../engine/params.ts";
import { rot6dToMatrix } from "../geometry/rotations.ts";
import { blockConfig, canonicalIndex, gridSize, type ModelConfig } from "./config.ts";
import { initPeMlp, runPeMlp, sinCos, type PeMlp } from "./tokens.ts";
import { initStack, runStack, type StackParams } from "./transformer.ts";

export type HeadMlp = { fc1: Linear; fc2: Linear };
export type CameraEstimatorParams = {
  /** Learned camera token [1, d]. */
  camCode: JArray;
  /** MLP over the view-index sin-cos code, added to the camera token (only used with viewIndexEmbedding). */
  camPe: PeMlp;
  blocks: StackParams;
  /** d → d → 1: the focal offset from the canonical view's token. */
  focalHead: HeadMlp;
  /** 2d → d → 9: pose offset `[Δrot6d (6), Δt (3)]` from [token₀ ‖ tokenⱼ]. */
  poseHead: HeadMlp;
  /** Learned register tokens [cameraRegisters, d] (only when the config asks for some). */
  registers?: JArray;
};

export type Cameras = {
  /** Camera-to-world [b, v, 4, 4], the canonical view = identity. */
  c2w: JArray;
  /** Normalised intrinsics [b, v, 4]: `[f, f, 0.5, 0.5]`. */
  fxfycxcy: JArray;
};

function initHead(key: JArray, dIn: number, d: number, dOut: number, std: number): HeadMlp {
  const [k1, k2] = random.split(key, 2) as unknown as [JArray, JArray];
  return { fc1: initLinear(k1, dIn, d, { bias: true, std }), fc2: initLinear(k2, d, dOut, { bias: true, std }) };
}

function runHead(p: HeadMlp, x: JArray): JArray {
  return linear(p.fc2, nn.silu(linear(p.fc1, x)));
}

export function initCameraEstimator(key: JArray, cfg: ModelConfig): CameraEstimatorParams {
  const [kCode, kPe, kBlocks, kFocal, kPose, kReg] = random.split(key, 6) as unknown as JArray[];
  const params: CameraEstimatorParams = {
    camCode: truncNormal(kCode!, [1, cfg.d], 0.02),
    camPe: initPeMlp(kPe!, cfg.d),
    blocks: initStack(kBlocks!, blockConfig(cfg), cfg.layers.camera),
    focalHead: initHead(kFocal!, cfg.d, cfg.d, 1, cfg.cameraHeadStd),
    poseHead: initHead(kPose!, 2 * cfg.d, cfg.d, 9, cfg.cameraHeadStd),
  };
  if (cfg.cameraRegisters > 0) params.registers = truncNormal(kReg!, [cfg.cameraRegisters, cfg.d], 0.02);
  else kReg!.dispose();
  return params;
}

/**
 * Shapes: b samples, v views, n tokens per view, d width.
 * Consumes `p` and `imageTokens` [b, v, n, d]; returns the cameras of all v views.
 */
export function runCameraEstimator(p: CameraEstimatorParams, tokens: JArray, cfg: ModelConfig): Cameras {
  const { focalHead, poseHead, ...stack } = p;
  return camerasFromInfo(runPoseHeads({ focalHead, poseHead }, runCameraStack(stack, tokens, cfg), cfg));
}

/**
 * The camera tokens after the transformer stack. Consumes `p` (all but the heads) and `tokens` [b, v, n, d];
 * returns [b, v, d].
 */
export function runCameraStack(p: Omit<CameraEstimatorParams, "focalHead" | "poseHead">, tokens: JArray, cfg: ModelConfig): JArray {
  const { blocks, ...rest } = p;
  const v = tokens.shape[1]!;
  return runStack(blocks, cameraSequence(rest, tokens, cfg), blockConfig(cfg)).slice([], [0, v]); // [b, v, d]
}

/**
 * The camera estimator's input sequence: camera tokens (code + view-index embedding), the (pooled) image tokens of
 * all views, and the registers. Consumes `p` and `tokens` [b, v, n, d]; returns [b, v + v·n (+ registers), d].
 */
export function cameraSequence(p: Pick<CameraEstimatorParams, "camCode" | "camPe" | "registers">, tokens: JArray, cfg: ModelConfig): JArray {
  const imageTokens = poolTokens(tokens, gridSize(cfg), cfg.cameraPool);
  const [b, v, n, d] = imageTokens.shape as [number, number, number, number];
  let cam = p.camCode; // [1, d]
  const code = np.array(sinCos(d, Array.from({ length: v }, (_, i) => i))).reshape([v, d]); // [v, d]
  if (cfg.viewIndexEmbedding) cam = cam.add(runPeMlp(p.camPe, code)); // [v, d]
  else {
    cam = np.broadcastTo(cam, [v, d]); // [v, d]
    code.dispose();
    dispose(p.camPe); // unused without the view-index embedding
  }
  const camTokens = np.broadcastTo(cam.reshape([1, v, d]), [b, v, d]); // [b, v, d]
  const parts = [camTokens, imageTokens.reshape([b, v * n, d])];
  if (p.registers) parts.push(np.broadcastTo(p.registers.reshape([1, cfg.cameraRegisters, d]), [b, cfg.cameraRegisters, d]));
  return np.concatenate(parts, 1); // [b, v + v·n (+ registers), d]
}

/**
 * Camera tokens → per-view camera info `[rot6d (6), t (3), fx, fy, cx, cy]` (the official `cam_info` layout):
 * focal from the canonical view's token, pose offsets from [token_canonical ‖ token_j] added to the identity (the
 * canonical view's offset masked to zero). Consumes `p` and `out` [b, v, d]; returns [b, v, 13].
 */
export function runPoseHeads(p: Pick<CameraEstimatorParams, "focalHead" | "poseHead">, out: JArray, cfg: ModelConfig): JArray {
  const [b, v, d] = out.shape as [number, number, number];
  const c = canonicalIndex(cfg, v);
  const tok0 = out.ref.slice([], [c, c + 1]); // [b, 1, d] the canonical view's token
  const focal = runHead(p.focalHead, tok0.ref).add(cfg.focalInit); // [b, 1, 1]
  const pair = np.concatenate([np.broadcastTo(tok0, [b, v, d]), out], -1); // [b, v, 2d]
  // The canonical view's offset is masked to zero, so it stays at the identity (static shapes, no slicing).
  const notCanonical = np.array(Float32Array.from({ length: v }, (_, i) => (i === c ? 0 : 1))).reshape([1, v, 1]);
  const base = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0]); // [9]: rot6d of I, t = 0
  const pose = runHead(p.poseHead, pair).mul(notCanonical).add(base); // [b, v, 9]
  const f = np.broadcastTo(focal, [b, v, 1]); // [b, v, 1]
  return np.concatenate([pose, f.ref, f, np.full([b, v, 2], 0.5)], -1); // [b, v, 13]
}

/** Camera info [b, v, 13] (see `runPoseHeads`) → cameras. Consumes `info`. */
export function camerasFromInfo(info: JArray): Cameras {
  const [b, v] = info.shape as [number, number];
  const rot = rot6dToMatrix(info.ref.slice([], [], [0, 6])); // [b, v, 3, 3]
  const t = info.ref.slice([], [], [6, 9]).reshape([b, v, 3, 1]); // [b, v, 3, 1]
  const top = np.concatenate([rot, t], -1); // [b, v, 3, 4]
  const bottom = np.broadcastTo(np.array([0, 0, 0, 1]).reshape([1, 1, 1, 4]), [b, v, 1, 4]); // [b, v, 1, 4]
  const c2w = np.concatenate([top, bottom], -2); // [b, v, 4, 4]
  const fxfycxcy = info.slice([], [], [9, 13]); // [b, v, 4]
  return { c2w, fxfycxcy };
}

/**
 * Average-pools image tokens [b, v, g·g, d] (a g × g grid, row-major) over `pool` × `pool` blocks → [b, v, (g/pool)², d].
 * Consumes `tokens`; `pool` 1 returns them as they are.
 */
export function poolTokens(tokens: JArray, g: number, pool: number): JArray {
  if (pool === 1) return tokens;
  const [b, v, n, d] = tokens.shape as [number, number, number, number];
  if (n !== g * g || g % pool !== 0) throw new Error(`poolTokens: ${n} tokens are not a ${g}×${g} grid poolable by ${pool}`);
  const q = g / pool;
  const blocks = tokens.reshape([b, v, q, pool, q, pool, d]);
  return np.mean(np.mean(blocks, 5), 3).reshape([b, v, q * q, d]);
}
