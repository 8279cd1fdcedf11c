import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { evalSummaryLines } from "../../src/cli/eval.ts";
import type { EvalReport } from "../../src/eval/evaluate.ts";

const report = (over: Partial<EvalReport> = {}): EvalReport => ({
  scenes: 4,
  targets: 8,
  psnr: { model: 20, nearestInput: 19.5, meanOfInputs: 18, identityCameras: 21.25, trueCameras: 19 },
  psnrStatic: { model: 21, nearestInput: 20, meanOfInputs: 19 },
  ssim: { model: 0.6, nearestInput: 0.55, meanOfInputs: 0.5 },
  rotationErrorDeg: { model: 2, identity: 3 },
  focal: { model: 0.9, truth: 1 },
  ...over,
});

describe("eval's printed lines", () => {
  it("state differences with their sign, never a verdict the numbers contradict", () => {
    const text = evalSummaryLines(report(), "head").join("\n");
    // the model is BELOW true cameras' rendering here (19 < 20): the line gives +/− numbers, no "far above"
    assert.match(text, /true cameras 19\.00 \(true cameras − model: −1\.00 dB\)/);
    assert.match(text, /identity cameras 21\.25 \(model − identity cameras: −1\.25 dB;/);
    assert.doesNotMatch(text, /far above|bottleneck/);
  });

  it("on footage: numbers that need true cameras or masks name the clips they come from, or say none has them", () => {
    const nan = Number.NaN;
    const r = report({ psnr: { model: 20, nearestInput: 19, meanOfInputs: 18, identityCameras: 20, trueCameras: nan }, rotationErrorDeg: { model: nan, identity: nan }, focal: { model: 0.9, truth: nan } });
    const text = evalSummaryLines(r, "head", { withMasks: ["tennis"], withCameras: [] }).join("\n");
    assert.match(text, /true cameras: not measured: no clip has true cameras/);
    assert.match(text, /rotation error \(°\) not measured: no clip has true cameras/);
    assert.match(text, /PSNR static px {5}model 21\.00 .* \(from tennis: the clips with motion masks\)/);
    assert.doesNotMatch(text, /n\/a \(/);
    const llff = evalSummaryLines(report(), "head", { withMasks: [], withCameras: ["fern"] }).join("\n");
    assert.match(llff, /true cameras 19\.00 .*\(from fern: the clips with true cameras\)/);
    assert.match(llff, /PSNR static px {5}not measured: no clip has motion masks/);
  });
});
