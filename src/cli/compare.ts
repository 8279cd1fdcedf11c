/**
 * `wildrayzer compare --a IMG --b IMG [--mask M] [--json]`: PSNR, SSIM and the perceptual distance (the bundled
 * MobileNetV2 features, src/features/perceptual.ts) of two images of the same size; with `--mask`, only the
 * pixels the mask marks (white) are scored. Identical images give PSNR "inf" (JSON: null with `identical: true`).
 */
import type { Command } from "commander";
import { startEngine } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { readFileChecked } from "../engine/files.ts";
import { decodeImage, decodeMask } from "../data/images.ts";
import { compareImages } from "../eval/compare.ts";
import { loadMobilenetV2 } from "../features/mobilenetV2.ts";
import { loadLpips } from "../features/lpips.ts";
import { loadFeatures } from "../features/index.ts";
import { patchDissimilarity } from "../eval/compare.ts";
import { numpy as np } from "@jax-js/jax";
import type { GlobalOptions } from "./globals.ts";

export function registerCompare(program: Command, globals: () => GlobalOptions): void {
  program
    .command("compare")
    .description("PSNR, SSIM and perceptual distance of two images (optionally only where a mask is white)")
    .requiredOption("--a <image>", "first image (PNG, JPEG, WebP, …)")
    .requiredOption("--b <image>", "second image, the same size")
    .option("--mask <image>", "score only the pixels that are white in this mask (same size)")
    .option("--features <spec>", "patch features for the feature dissimilarity: mobilenet (bundled) or dinov2:FILE / dinov3:FILE (your weights)", "mobilenet")
    .option("--lpips <net:file>", "also LPIPS with your weights, e.g. vgg:lpips_vgg.safetensors (official lpips key names; nothing is bundled)")
    .option("--json", "print one JSON object", false)
    .action(async (flags: { a: string; b: string; mask?: string; lpips?: string; features: string; json: boolean }) => {
      const g = globals();
      const a = await decodeImage(readFileChecked(flags.a, "an image"), flags.a);
      const b = await decodeImage(readFileChecked(flags.b, "an image"), flags.b);
      if (a.h !== b.h || a.w !== b.w) throw new WildrayzerError(`${flags.b}: image is ${b.w}×${b.h} (w×h), ${flags.a} is ${a.w}×${a.h}; compare needs the same size`);
      if (a.h < 16 || a.w < 16) throw new WildrayzerError(`${flags.a}: image is ${a.w}×${a.h}; compare needs at least 16×16`);
      const keep = flags.mask ? await decodeMask(readFileChecked(flags.mask, "a mask image"), flags.mask, { h: a.h, w: a.w, source: flags.a }) : undefined;
      await startEngine({ device: g.device });
      const fx = await loadMobilenetV2();
      const r = await compareImages(fx, a.image, b.image, a.h, a.w, keep);
      fx.dispose();
      const feats = await loadFeatures(flags.features);
      const featureDissimilarity = await patchDissimilarity(feats, a.image, b.image, a.h, a.w);
      feats.extractor.dispose();
      let lpips: number | undefined;
      if (flags.lpips) {
        const m = /^(vgg|alex):(.+)$/.exec(flags.lpips);
        if (!m) throw new WildrayzerError(`--lpips ${flags.lpips}: expected vgg:FILE or alex:FILE`);
        const model = loadLpips(m[2]!, m[1] as "vgg" | "alex");
        const d = model.distance(np.array(a.image).reshape([1, 3, a.h, a.w]), np.array(b.image).reshape([1, 3, a.h, a.w]));
        lpips = ((await d.data()) as Float32Array)[0]!;
        model.dispose();
      }
      const identical = r.psnr === Infinity;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ psnr: identical ? null : r.psnr, identical, ssim: r.ssim, perceptual: r.perceptual, featureDissimilarity, ...(lpips !== undefined ? { lpips } : {}), coverage: r.coverage, size: [a.w, a.h] })}\n`);
        return;
      }
      const lines = [
        `PSNR                 ${identical ? "inf (identical)" : `${r.psnr.toFixed(2)} dB`}`,
        `SSIM                 ${r.ssim.toFixed(4)}`,
        `perceptual distance  ${r.perceptual.toFixed(4)} (MobileNetV2 features, 0 = same)`,
      ];
      lines.push(`feature dissimilarity ${featureDissimilarity.toFixed(4)} (1 − cosine of patch features, ${feats.label}, whole image)`);
      if (lpips !== undefined) lines.push(`LPIPS                ${lpips.toFixed(4)} (${flags.lpips!.split(":")[0]}, whole image)`);
      if (keep) lines.push(`scored               ${(100 * r.coverage).toFixed(1)} % of the pixels (white in ${flags.mask})`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
