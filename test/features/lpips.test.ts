import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { grad, jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { arr, engine, gradcheck, randValues, values } from "../helpers/engine.ts";
import { loadLpips, lpipsFromSafetensors, lpipsParamsFromSafetensors, lpipsTapSizes, lpipsTensorShapes, runLpips, type LpipsConfig, type LpipsNet } from "../../src/features/lpips.ts";
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type TensorEntry } from "../../src/engine/safetensors.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { dispose, rebuild, ref } from "../../src/engine/params.ts";

// Fixtures from test/fixtures/make_lpips_fixture.py: a PyTorch rebuild of the lpips package at reduced widths
// (random weights, official names), with inputs and the expected distances (float64) as `__x__`, `__y__`, `__expected__`.
const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const WIDTHS: Record<LpipsNet, number[]> = { alex: [8, 12, 16, 12, 12], vgg: [4, 8, 8, 12, 12] }; // as the script
const NETS: LpipsNet[] = ["alex", "vgg"];

type Fixture = { weights: TensorEntry[]; x: TensorEntry; y: TensorEntry; expected: Float32Array; grad0: TensorEntry };
const fixtures = new Map<LpipsNet, Fixture>();
let dir: string;

function readFixture(net: LpipsNet): Fixture {
  const file = decodeSafetensors(readFileSync(join(FIXTURES, `lpips_${net}_tiny.safetensors`)), `lpips_${net}_tiny.safetensors`);
  const all = [...file.tensors].map(([name, t]): TensorEntry => ({ name, shape: t.shape, data: t.data }));
  const get = (n: string) => all.find((t) => t.name === n)!;
  return { weights: all.filter((t) => !t.name.startsWith("__")), x: get("__x__"), y: get("__y__"), expected: get("__expected__").data, grad0: get("__grad0__") };
}

/** Writes tensors as a safetensors file in the temp folder and returns its path. */
function writeWeights(name: string, tensors: TensorEntry[]): string {
  const path = join(dir, name);
  writeFileSync(path, encodeSafetensors(tensors));
  return path;
}

const asArray = (t: TensorEntry): JArray => arr(t.data, t.shape);
/** He-scaled random convs, biases in [0.05, 0.15), heads in [0, 0.5): every tensor `lpipsTensorShapes` requires. */
function randomWeights(cfg: LpipsConfig, seed: number): SafetensorsFile {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [i, [name, shape]] of [...lpipsTensorShapes(cfg).required].entries()) {
    const fanIn = shape.slice(1).reduce((p, d) => p * d, 1);
    const [lo, hi] = name.startsWith("lin") ? [0, 0.5] : name.endsWith(".bias") ? [0.05, 0.15] : [-Math.sqrt(6 / fanIn), Math.sqrt(6 / fanIn)];
    tensors.set(name, { shape, data: randValues(seed + i, shape, lo, hi) });
  }
  return { tensors, metadata: {} };
}

const asFile = (tensors: TensorEntry[]): SafetensorsFile => ({ tensors: new Map(tensors.map((t) => [t.name, { shape: t.shape, data: t.data }])), metadata: {} });

before(async () => {
  await engine();
  for (const net of NETS) fixtures.set(net, readFixture(net));
  dir = mkdtempSync(join(tmpdir(), "lpips-test-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("LPIPS (reduced-width trunks, official parameter names)", () => {
  for (const net of NETS) {
    it(`${net}: matches the PyTorch reference on a batch of two non-square images (relative error < 1e-5)`, async () => {
      const fx = fixtures.get(net)!;
      const lp = loadLpips(writeWeights(`${net}.safetensors`, fx.weights), net, WIDTHS[net]);
      const d = await values(lp.distance(asArray(fx.x), asArray(fx.y)));
      lp.dispose();
      assert.equal(d.length, 2, `${net}: one distance per image, got ${d.length}`);
      for (const [i, e] of fx.expected.entries()) {
        const rel = Math.abs(d[i]! - e) / Math.abs(e);
        assert.ok(e > 1e-3 && rel < 1e-5, `${net} image ${i}: ours ${d[i]}, PyTorch ${e}, relative error ${rel}`);
      }
    });
  }

  for (const net of NETS) {
    it(`${net}: the gradient in x matches PyTorch's autograd (relative error < 1e-4)`, async () => {
      const fx = fixtures.get(net)!;
      const lp = lpipsFromSafetensors(asFile(fx.weights), { net, widths: WIDTHS[net] }, net);
      const [, c, h, w] = fx.x.shape as [number, number, number, number];
      const first = (t: TensorEntry) => arr(t.data.subarray(0, c * h * w), [1, c, h, w]);
      const y = first(fx.y);
      const g = await values(grad((x: JArray) => np.sum(lp.distance(x, y.ref)))(first(fx.x)));
      y.dispose();
      lp.dispose();
      const e = fx.grad0.data;
      let err = 0;
      let norm = 0;
      for (let i = 0; i < e.length; i++) {
        err += (g[i]! - e[i]!) ** 2;
        norm += e[i]! ** 2;
      }
      const rel = Math.sqrt(err / norm);
      assert.ok(g.length === e.length && norm > 0 && rel < 1e-4, `${net}: ‖ours − PyTorch‖ / ‖PyTorch‖ = ${rel} over ${g.length} values`);
    });
  }

  it("uses the package's ScalingLayer constants when the file has no scaling_layer.* (and no lins.* aliases)", async () => {
    const fx = fixtures.get("alex")!;
    const full = lpipsFromSafetensors(asFile(fx.weights), { net: "alex", widths: WIDTHS.alex }, "full");
    const bare = lpipsFromSafetensors(asFile(fx.weights.filter((t) => !/^(scaling_layer|lins)\./.test(t.name))), { net: "alex", widths: WIDTHS.alex }, "bare");
    const a = await values(full.distance(asArray(fx.x), asArray(fx.y)));
    const b = await values(bare.distance(asArray(fx.x), asArray(fx.y)));
    full.dispose();
    bare.dispose();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-7 * Math.abs(a[i]!), `image ${i}: with buffers ${a[i]}, without ${b[i]}`);
  });

  it("gives 0 for identical images", async () => {
    for (const net of NETS) {
      const fx = fixtures.get(net)!;
      const lp = lpipsFromSafetensors(asFile(fx.weights), { net, widths: WIDTHS[net] }, net);
      const x = asArray(fx.x);
      const d = await values(lp.distance(x.ref, x));
      lp.dispose();
      assert.ok(d.every((v) => Math.abs(v) < 1e-9), `${net}: d(x, x) = ${d}`);
    }
  });

  it("is the same under jit", async () => {
    const fx = fixtures.get("vgg")!;
    const cfg: LpipsConfig = { net: "vgg", widths: WIDTHS.vgg };
    const params = () => lpipsParamsFromSafetensors(asFile(fx.weights), cfg, "vgg");
    const eager = await values(runLpips(params(), asArray(fx.x), asArray(fx.y), cfg));
    const f = jit((p: ReturnType<typeof params>, x: JArray, y: JArray) => runLpips(p, x, y, cfg));
    const jitted = await values(f(params(), asArray(fx.x), asArray(fx.y)));
    f.dispose();
    for (let i = 0; i < eager.length; i++) assert.ok(Math.abs(eager[i]! - jitted[i]!) <= 1e-6 * Math.abs(eager[i]!), `image ${i}: eager ${eager[i]}, jit ${jitted[i]}`);
  });

  it("alex: the gradient in x matches central finite differences (float32)", async () => {
    const cfg: LpipsConfig = { net: "alex", widths: [16, 16, 16, 16, 16] };
    const lp = lpipsFromSafetensors(randomWeights(cfg, 21), cfg, "random alex");
    const shape = [1, 3, 36, 36]; // small, and past AlexNet's 31-pixel minimum
    const x0 = randValues(11, shape, 0.2, 0.8);
    const y = arr(randValues(12, shape, 0.2, 0.8), shape);
    await gradcheck((x) => np.sum(lp.distance(x, y.ref)), x0, shape, { eps: 1e-3, rtol: 0.02, atol: 1e-6, directions: 1 });
    y.dispose();
    lp.dispose();
  });

  it("vgg: the gradient in x matches central finite differences (float64)", async () => {
    // VGG's 13 ReLUs and 4 max-pools put kinks within any float32-usable step: even PyTorch in float64 is off by
    // several % at eps 1e-4 on such a net, so this check runs our same code in float64 with eps 1e-6.
    const cfg: LpipsConfig = { net: "vgg", widths: [16, 16, 16, 16, 16] };
    const params = lpipsParamsFromSafetensors(randomWeights(cfg, 21), cfg, "random vgg");
    const p64 = rebuild(params, (_, a) => a.astype(np.float64));
    const shape = [1, 3, 24, 24];
    const f64 = (v: Float32Array) => arr(v, shape).astype(np.float64);
    const x0 = randValues(11, shape, 0.2, 0.8);
    const u = randValues(13, shape);
    const y = f64(randValues(12, shape, 0.2, 0.8));
    const f = (x: JArray) => np.sum(runLpips(ref(p64), x, y.ref, cfg));
    const g = await values(grad(f)(f64(x0)));
    const eps = 1e-6;
    const at = async (sign: number) => (await values(f(f64(x0).add(f64(u).mul(sign * eps)))))[0]!;
    const numeric = ((await at(1)) - (await at(-1))) / (2 * eps);
    const analytic = g.reduce((s, gi, i) => s + gi * u[i]!, 0);
    dispose(p64);
    y.dispose();
    assert.ok(Math.abs(analytic) > 1e-3 && Math.abs(analytic - numeric) <= 1e-4 * Math.abs(numeric), `analytic ${analytic}, finite difference ${numeric}`);
  });

  it("names the missing and the mis-shaped tensors of a bad file in one line", () => {
    const fx = fixtures.get("alex")!;
    const bad = fx.weights
      .filter((t) => t.name !== "lin2.model.1.weight")
      .map((t) => (t.name === "net.slice2.3.weight" ? { name: t.name, shape: [12, 8, 3, 3], data: new Float32Array(12 * 8 * 9) } : t));
    const path = writeWeights("bad.safetensors", bad);
    assert.throws(
      () => loadLpips(path, "alex", WIDTHS.alex),
      (e: unknown) =>
        e instanceof WildrayzerError &&
        !e.message.includes("\n") &&
        e.message.startsWith(path) &&
        /missing 1: lin2\.model\.1\.weight/.test(e.message) &&
        /wrong shape 1: net\.slice2\.3\.weight \[12,8,3,3\] \(expected \[12,8,5,5\]\)/.test(e.message),
    );
    // the default (official) widths do not fit the reduced file: every tensor is then named as mis-shaped
    assert.throws(() => loadLpips(writeWeights("tiny.safetensors", fx.weights), "alex"), /wrong shape 20: net\.slice1\.0\.weight \[8,3,11,11\] \(expected \[64,3,11,11\]\)/);
  });

  it("refuses images of different shapes or too small for the trunk", () => {
    const fx = fixtures.get("alex")!;
    const lp = lpipsFromSafetensors(asFile(fx.weights), { net: "alex", widths: WIDTHS.alex }, "alex");
    assert.throws(() => lp.distance(np.zeros([1, 3, 40, 40]), np.zeros([1, 3, 40, 36])), (e: unknown) => e instanceof WildrayzerError && /differ in shape/.test(e.message));
    assert.throws(() => lp.distance(np.zeros([1, 3, 30, 40]), np.zeros([1, 3, 30, 40])), (e: unknown) => e instanceof WildrayzerError && /40×30 is too small/.test(e.message));
    lp.dispose();
    assert.deepEqual(lpipsTapSizes({ net: "alex", widths: WIDTHS.alex }, 31, 31), [[7, 7], [3, 3], [1, 1], [1, 1], [1, 1]], "AlexNet's smallest input");
    assert.equal(lpipsTapSizes({ net: "vgg", widths: WIDTHS.vgg }, 15, 64), null, "VGG needs 16 pixels");
  });
});
