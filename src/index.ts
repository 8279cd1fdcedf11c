/**
 * The wildrayzer library API: named re-exports only. The CLI is built on exactly these. Importing this module
 * first installs the Node worker adapter, so jax-js starts its thread pool (import `wildrayzer` before
 * `@jax-js/jax` in a Node program).
 */
export { engineThreads, resolveThreads, wasmHeapBytes } from "./engine/workerAdapter.ts";
export { startEngine, engineInfo, DEVICE_KINDS, JAX_VERSION, type DeviceKind, type EngineInfo } from "./engine/backend.ts";
export { WildrayzerError, userAssert, formatIssues } from "./engine/errors.ts";
export { makeRng, type Rng } from "./engine/rng.ts";
export { namedLeaves, rebuild, paramCount, ref, dispose, zeros, ones, truncNormal, normal, type ParamTree } from "./engine/params.ts";
export {
  linear,
  initLinear,
  layerNorm,
  rmsNorm,
  initNorm,
  initMlp,
  runMlp,
  qkNormAttention,
  initBlock,
  runBlock,
  headWidth,
  patchify,
  unpatchify,
  initConv2d,
  conv2d,
  groupNorm,
  upsample2x,
  type Conv2d,
  type Linear,
  type Norm,
  type Mlp,
  type BlockParams,
  type BlockConfig,
} from "./engine/layers.ts";
export { resizeBilinear, interpolationMatrix, avgPoolPatches } from "./engine/image.ts";
export {
  initAdamW,
  adamwUpdate,
  clipByGlobalNorm,
  learningRate,
  learningRateArray,
  makeTrainStep,
  type AdamWConfig,
  type OptState,
  type TrainState,
  type StepMetrics,
} from "./engine/optim.ts";
export {
  encodeSafetensors,
  decodeSafetensors,
  treeToSafetensors,
  safetensorsToTree,
  halfToFloat,
  type TensorEntry,
  type SafetensorsFile,
} from "./engine/safetensors.ts";
export { writeFileAtomic, readFileChecked } from "./engine/files.ts";
export { checkMatmul, checkBlockGradient, type CheckResult } from "./engine/selfCheck.ts";
export {
  normalizeIntrinsics,
  denormalizeIntrinsics,
  denormalizeIntrinsicsArray,
  intrinsicsFromFov,
  type Camera,
  type Intrinsics,
} from "./geometry/cameras.ts";
export { lookAt, rigidInverse, transformPoint, transformDir, mat4Mul, type Vec3, type Mat3, type Mat4 } from "./geometry/mat4.ts";
export {
  rot6dToMatrix,
  matrixToRot6d,
  rot6dToMat3,
  quatFromMat3,
  mat3FromQuat,
  quatSlerp,
  axisAngleToMat3,
  rotationAngleDeg,
  type Quat,
} from "./geometry/rotations.ts";
export { pluckerRays, pixelRay } from "./geometry/rays.ts";
export { relativeToFirst, relativeToFirstArray, invertRigidArray, interpolateCamera, interpolateCameras, cameraPath } from "./geometry/poses.ts";
export {
  umeyama,
  alignCameras,
  relativePoseErrors,
  poseAuc,
  evaluatePoses,
  type Similarity,
  type PoseMetrics,
} from "./geometry/poseMetrics.ts";
export type { Frame, Scene } from "./data/scene.ts";
export { SynthConfigSchema, SYNTH_PRESETS, HELD_OUT_SEED_START, type SynthConfig, type SynthPreset } from "./data/config.ts";
export { generateScene, projectPoint, type SynthScene } from "./data/synth/index.ts";
export { writeScene, readScene, type SceneMeta } from "./data/sceneIo.ts";
export { encodePng, encodeMaskPng, encodeDepthPng16, decodeImage, decodeMask, decodeDepth16 } from "./data/images.ts";
export { selectViews, packBatch, type HostBatch } from "./data/sampling.ts";
export { copyPaste, segmentsOf, synthSegments, CopyPasteConfigSchema, DEFAULT_COPY_PASTE, type CopyPasteConfig, type CopyPasteResult, type Segment } from "./data/copyPaste.ts";
export { ModelConfigSchema, MODEL_PRESETS, tokensPerView, type ModelConfig, type ModelPreset } from "./model/config.ts";
export { initRayZer, runRayZer, type RayZerParams, type RayZerOutput } from "./model/rayzer.ts";
export {
  MotionConfigSchema,
  MOTION_PRESETS,
  checkMotionFitsModel,
  type MotionConfig,
  type MotionPreset,
} from "./model/motionConfig.ts";
export { initMotionEstimator, runMotionEstimator, type MotionEstimatorParams } from "./model/motionEstimator.ts";
export { openTorchCheckpoint, unpickle, stateDictOf, findTensors, type TorchCheckpoint, type TorchTensor, type PyValue } from "./engine/torchCheckpoint.ts";
export { officialKeyMap, officialConfig, officialToParams, detectOfficialModel, type ConversionReport, type KeyMapping } from "./model/official.ts";
export { loadOfficialWeights, loadAnyModel, type OfficialLoad } from "./model/officialFile.ts";
export { makeForward, makeStagedForward, makeInferenceForward, type Forward, type ForwardResult } from "./pipeline/forward.ts";
export { makeInputMasker, masksByDefault, resolveTokenMasks, inputKeep, tokenMasksFor, TOKEN_MASK_MODES, type InputMasker, type TokenMaskMode, type TokenMaskSource } from "./pipeline/maskedInputs.ts";
export { mse, gatedPhotometricLoss, bceWithLogits, psnrKeep } from "./train/losses.ts";
export { TrainConfigSchema, RUN_PRESETS, resolveRunConfig, type TrainConfig, type RunConfig } from "./train/config.ts";
export { trainStage1, trainStage, type TrainProgress, type TrainResult } from "./train/loop.ts";
export { trainBatch } from "./train/batches.ts";
export { saveCheckpoint, loadCheckpoint, readCheckpointMeta, type CheckpointMeta } from "./train/checkpoint.ts";
export { evaluateStage1, type EvalReport } from "./eval/evaluate.ts";
export { psnrHost, mseHost } from "./eval/metrics.ts";
export { buildReport, writeReport } from "./eval/report.ts";
export type { FrameStack, StaticRenderer } from "./pipeline/staticRenderer.ts";
export { warpRenderer, DEFAULT_WARP, type WarpOptions } from "./pipeline/warpRenderer.ts";
export { rendererPseudoMasks, DEFAULT_FRAME_MASKS, type FrameMaskOptions } from "./pipeline/frameMasks.ts";
export { differencingMasks, DEFAULT_DIFFERENCING, type DifferencingOptions } from "./pipeline/differencing.ts";
