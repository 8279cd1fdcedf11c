import { before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine, np, values } from "../helpers/engine.ts";
import {
  DINO_PRESETS, dinoFromSafetensors, dinoTensorShapes, interpolatePosEmbed, loadDino,
  type DinoConfig, type DinoV2Config, type DinoV3Config,
} from "../../src/features/dino.ts";
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile } from "../../src/engine/safetensors.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { wasmHeapBytes } from "../../src/engine/workerAdapter.ts";

// The fixtures come from test/fixtures/make_dino_fixture.py: a PyTorch re-implementation of the official
// forward passes (facebookresearch/dinov2 and dinov3) at width 24, 2 heads, depth 2, 4 registers / storage
// tokens, with random weights under the official state-dict names, expected outputs computed in float64.
const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const TINY = { d: 24, depth: 2, heads: 2 };
const V2_REG: DinoV2Config = { ...DINO_PRESETS.dinov2_vits14_reg, ...TINY, posGrid: 2 }; // 28² input = native grid
const V2_PLAIN: DinoV2Config = { ...DINO_PRESETS.dinov2_vits14, ...TINY, posGrid: 2 };
const V3: DinoV3Config = { ...DINO_PRESETS.dinov3_vits16, ...TINY };
// max |ours − reference| / max |reference|. Float32 against a float64 reference measures ~7e-7; 1e-4 would let
// the tanh GELU through on these weights (it measures 8e-5 to 1.3e-4), so the bound sits between the two.
const TOL = 1e-5;

type Fixture = { weights: SafetensorsFile; test: Map<string, { shape: number[]; data: Float32Array }> };

/** A fixture split into the model's tensors and the `__name__` test entries. */
function fixture(name: string): Fixture {
  const file = decodeSafetensors(readFileSync(join(FIXTURES, name)), name);
  const weights: SafetensorsFile = { tensors: new Map(), metadata: {} };
  const test = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of file.tensors) (k.startsWith("__") ? test : weights.tensors).set(k.startsWith("__") ? k.slice(2, -2) : k, t);
  return { weights, test };
}

function without(file: SafetensorsFile, drop: string[]): SafetensorsFile {
  return { tensors: new Map([...file.tensors].filter(([k]) => !drop.includes(k))), metadata: {} };
}

/** Relative max error, after checking the shape. */
async function relErr(actual: ReturnType<typeof np.array>, expected: { shape: number[]; data: Float32Array }, what: string): Promise<number> {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = await values(actual);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - expected.data[i]!));
    scale = Math.max(scale, Math.abs(expected.data[i]!));
  }
  assert.ok(scale > 0.1, `${what}: the reference output is degenerate (max |value| ${scale})`);
  return err / scale;
}

/** Runs `cfg` on the fixture input `input`, compares the `patch` (and optionally `cls`) taps, reports the errors. */
async function check(t: TestContext, weights: SafetensorsFile, cfg: DinoConfig, input: { shape: number[]; data: Float32Array }, patch: { shape: number[]; data: Float32Array }, cls: { shape: number[]; data: Float32Array } | null, what: string): Promise<void> {
  const fx = dinoFromSafetensors(weights, cfg, what);
  const out = fx.extract(np.array(input.data, { shape: input.shape }), cls ? ["patch", "cls"] : ["patch"]);
  const ePatch = await relErr(out.get("patch")!, patch, `${what} patch`);
  const eCls = cls ? await relErr(out.get("cls")!, { shape: [...cls.shape, 1, 1], data: cls.data }, `${what} cls`) : 0;
  fx.dispose();
  t.diagnostic(`${what}: max |error| / max |reference| = ${ePatch.toExponential(2)} (patch)${cls ? `, ${eCls.toExponential(2)} (cls)` : ""}`);
  assert.ok(ePatch < TOL && eCls < TOL, `${what}: max error / max value ${ePatch} (patch), ${eCls} (cls) ≥ ${TOL}`);
}

let v2: Fixture;
let v3: Fixture;
before(async () => {
  await engine();
  v2 = fixture("dino_v2_tiny.safetensors");
  v3 = fixture("dino_v3_tiny.safetensors");
});

describe("DINOv2 against the PyTorch reference (reduced size, official names)", () => {
  it("with 4 registers on the native pos-embed grid: patch map and cls token", async (t) => {
    await check(t, v2.weights, V2_REG, v2.test.get("input")!, v2.test.get("expected")!, v2.test.get("expected_cls")!, "dinov2 reg native");
  });

  it("with 4 registers on a 3×5 grid (antialiased bicubic pos embed)", async (t) => {
    await check(t, v2.weights, V2_REG, v2.test.get("input_interp")!, v2.test.get("expected_interp")!, null, "dinov2 reg 3x5");
  });

  it("without registers, native grid and a 3×5 grid (bicubic pos embed, scale factor (n + 0.1)/M)", async (t) => {
    const plain = without(v2.weights, ["register_tokens"]);
    await check(t, plain, V2_PLAIN, v2.test.get("input")!, v2.test.get("expected_noreg")!, null, "dinov2 plain native");
    await check(t, plain, V2_PLAIN, v2.test.get("input_interp")!, v2.test.get("expected_noreg_interp")!, null, "dinov2 plain 3x5");
  });

  it("interpolates a 7×7 pos-embed grid like F.interpolate, up and down, in both official modes", async (t) => {
    const grid = v2.test.get("pos_grid")!;
    let worst = 0;
    for (const [rows, cols] of [[3, 4], [10, 9], [7, 12], [1, 2]] as const) {
      for (const [mode, cfg] of [["aa", { posInterp: "bicubicAntialias", posInterpOffset: 0 }], ["plain", { posInterp: "bicubic", posInterpOffset: 0.1 }]] as const) {
        const got = interpolatePosEmbed(np.array(grid.data, { shape: grid.shape }), 7, rows, cols, cfg);
        const want = v2.test.get(`pos_${mode}_${rows}x${cols}`)!;
        const e = await relErr(got, want, `pos ${mode} ${rows}×${cols}`);
        assert.ok(e < 1e-6, `pos-embed ${mode} ${rows}×${cols}: max error / max value ${e}`);
        worst = Math.max(worst, e);
      }
    }
    t.diagnostic(`pos embed: max |error| / max |reference| = ${worst.toExponential(2)} (worst of 8)`);
  });
});

describe("DINOv3 against the PyTorch reference (reduced size, official names)", () => {
  it("2-D RoPE, storage tokens and masked k bias on a non-square 2×3 grid: patch map and cls token", async (t) => {
    await check(t, v3.weights, V3, v3.test.get("input")!, v3.test.get("expected")!, v3.test.get("expected_cls")!, "dinov3 2x3");
  });
});

describe("DINO memory", () => {
  it("repeated extracts leave the wasm heap flat (no leaked activations; the params survive)", async () => {
    const fx = dinoFromSafetensors(v3.weights, V3, "v3");
    const x = new Float32Array(2 * 3 * 96 * 128).map((_, i) => (i % 97) / 97);
    const heap: number[] = [];
    for (let i = 0; i < 24; i++) {
      const out = fx.extract(np.array(x, { shape: [2, 3, 96, 128] }), ["patch", "cls"]);
      await values(out.get("patch")!);
      await values(out.get("cls")!);
      heap.push(wasmHeapBytes());
    }
    fx.dispose();
    // One input is 295 kB and each call makes two more of that size plus ~60 activations of 10-45 kB: leaking
    // any per-call array adds ≥ 20 × 10 kB over the last 20 calls.
    const growth = (heap.at(-1)! - heap[3]!) / 2 ** 10;
    assert.ok(heap[3]! > 0, "the wasm heap size could not be read");
    assert.ok(growth < 160, `wasm heap grew ${growth.toFixed(0)} kB over 20 extracts`);
  });
});

describe("DINO loading and input errors", () => {
  it("loads a file from disk with loadDino and matches the reference", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wrz-dino-"));
    try {
      const path = join(dir, "v3.safetensors");
      writeFileSync(path, encodeSafetensors([...v3.weights.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }))));
      const fx = loadDino(path, V3);
      assert.equal(fx.channels.get("patch"), 24, "patch channels");
      const input = v3.test.get("input")!;
      const got = fx.extract(np.array(input.data, { shape: input.shape }), ["patch"]).get("patch")!;
      const e = await relErr(got, v3.test.get("expected")!, "loadDino patch");
      fx.dispose();
      assert.ok(e < TOL, `loadDino: max error / max value ${e}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a file with a missing and a mis-shaped tensor is one error line naming both", () => {
    const tensors = new Map(v2.weights.tensors);
    tensors.delete("blocks.1.ls2.gamma");
    tensors.set("blocks.0.attn.qkv.weight", { shape: [24, 72], data: tensors.get("blocks.0.attn.qkv.weight")!.data });
    tensors.set("head.weight", { shape: [2], data: new Float32Array(2) });
    assert.throws(
      () => dinoFromSafetensors({ tensors, metadata: {} }, V2_REG, "bad.safetensors"),
      (e: unknown) => {
        const m = (e as Error).message;
        assert.ok(e instanceof WildrayzerError, `not a WildrayzerError: ${String(e)}`);
        assert.ok(!m.includes("\n"), `more than one line: ${m}`);
        assert.ok(/^bad\.safetensors: /.test(m), `does not name the file: ${m}`);
        assert.ok(/missing 1: blocks\.1\.ls2\.gamma/.test(m), `does not name the missing tensor: ${m}`);
        assert.ok(/wrong shape 1: blocks\.0\.attn\.qkv\.weight \[24,72\] \(expected \[72,24\]\)/.test(m), `does not name the mis-shaped tensor: ${m}`);
        assert.ok(/unexpected 1: head\.weight/.test(m), `does not name the unexpected tensor: ${m}`);
        return true;
      },
    );
  });

  it("a DINOv2 file loaded as DINOv3 names what differs; mask_token is optional", () => {
    assert.throws(() => dinoFromSafetensors(v2.weights, { ...V3, patch: 14 }, "v2.safetensors"), (e: unknown) => e instanceof WildrayzerError && /missing .*storage_tokens.*rope_embed\.periods.*unexpected .*pos_embed/.test((e as Error).message));
    dinoFromSafetensors(without(v3.weights, ["mask_token"]), V3, "v3.safetensors").dispose();
  });

  it("refuses image sides that are not multiples of the patch, and unknown kinds, taps and files", () => {
    const fx = dinoFromSafetensors(v3.weights, V3, "v3");
    assert.throws(() => fx.extract(np.zeros([1, 3, 32, 40]), ["patch"]), (e: unknown) => e instanceof WildrayzerError && /40×32 must be a multiple of the patch size 16/.test((e as Error).message));
    assert.throws(() => fx.extract(np.zeros([1, 3, 32, 32]), ["x"]), (e: unknown) => e instanceof WildrayzerError && /unknown tap x/.test((e as Error).message));
    fx.dispose();
    assert.throws(() => loadDino("/nonexistent/dino.safetensors", "dinov3_vits16"), (e: unknown) => e instanceof WildrayzerError && /file not found/.test((e as Error).message));
    assert.throws(() => loadDino("x.safetensors", "dinov2_vitg14" as never), (e: unknown) => e instanceof WildrayzerError && /unknown DINO model/.test((e as Error).message));
  });

  it("the presets ask for the official ViT-S shapes", () => {
    const v2s = dinoTensorShapes(DINO_PRESETS.dinov2_vits14_reg).required;
    assert.deepEqual(v2s.get("pos_embed"), [1, 1370, 384], "518/14 = 37 grid plus cls");
    assert.deepEqual(v2s.get("register_tokens"), [1, 4, 384], "4 registers");
    assert.deepEqual(v2s.get("patch_embed.proj.weight"), [384, 3, 14, 14], "patch 14");
    assert.ok(v2s.has("blocks.11.mlp.fc2.weight") && !v2s.has("blocks.12.norm1.weight"), "depth 12");
    assert.ok(!dinoTensorShapes(DINO_PRESETS.dinov2_vits14).required.has("register_tokens"), "no registers in the plain model");
    const v3s = dinoTensorShapes(DINO_PRESETS.dinov3_vits16).required;
    assert.deepEqual(v3s.get("rope_embed.periods"), [16], "head width 64 → 16 periods");
    assert.deepEqual(v3s.get("storage_tokens"), [1, 4, 384], "4 storage tokens");
    assert.deepEqual(v3s.get("blocks.0.attn.qkv.bias_mask"), [1152], "masked k bias");
    assert.ok(!v3s.has("pos_embed"), "no learned pos embed");
    // LayerNorm eps: dinov2 norm_layer = partial(nn.LayerNorm, eps=1e-6); dinov3_vits16 uses "layernormbf16" (1e-5)
    assert.ok(DINO_PRESETS.dinov2_vits14.eps === 1e-6 && DINO_PRESETS.dinov2_vits14_reg.eps === 1e-6, "DINOv2 LayerNorm eps 1e-6");
    assert.ok(DINO_PRESETS.dinov3_vits16.eps === 1e-5, "DINOv3 ViT-S/16 LayerNorm eps 1e-5");
  });
});
