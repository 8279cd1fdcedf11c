/**
 * The one backbone tap every mask consumer reads (the pseudo-mask pipeline and the motion estimator), on its own so
 * that a consumer of the tap alone (the browser viewer's motion masks) does not import the pseudo-mask pipeline and
 * its OpenCV refinement. src/pipeline/pseudoLabels.ts re-exports it.
 */
import { MOBILENET_TAPS } from "../features/mobilenetV2.ts";

/** The feature tap the pipeline uses (bundled MobileNetV2, stride 4: a 16×16 grid at 64², 8×8 at 32²). */
export type MaskTap = { name: string; stride: number };

/** The tap every mask consumer uses: MobileNetV2's stride-4 output (`block_2_add`, 24 channels). */
export const MASK_TAP: MaskTap = { name: MOBILENET_TAPS.stride4, stride: 4 };
/** Channels of MASK_TAP (the motion estimator's `featureChannels`). */
export const MASK_TAP_CHANNELS = 24;
