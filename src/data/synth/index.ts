/**
 * The synthetic dynamic-scene generator: named re-exports only. `generateScene(seed, cfg)` is the entry point;
 * the rest is for tests, diagnostics and tools that edit a layout before rendering it.
 */
export { generateScene, renderSpec, type SynthScene, type SynthFrame, type SynthObject, type SynthTruth } from "./generate.ts";
export { makeSceneSpec, type SceneSpec, type Room, type Street, type Building, type StaticObject, type Light } from "./sceneSpec.ts";
export { packScene, type PackedScene } from "./pack.ts";
export { renderFrame, projectPoint, SKY_DISTANCE, type RenderedFrame, type RenderOptions } from "./raycast.ts";
export { cameraPath, cameraRotation, frameTimes, PATH_KINDS, type PathKind, type Arena } from "./cameraPath.ts";
export { moverPose, footprintRadius, MOVER_KINDS, type Mover, type MoverKind, type Shape } from "./motion.ts";
export { evalTexture, packTextures, randomTexture, randomPalette, hslToRgb, TEXTURE_STRIDE, type Texture, type TextureKind, type Rgb, type Palette } from "./textures.ts";
