/**
 * The jax-js wasm matmul kernel as patched (patches/@jax-js+jax+0.1.25.patch, docs/ENGINE.md "The matmul
 * micro-tile"): the patch is applied, and products, fused epilogues and gradients of odd, batched and transposed
 * shapes equal (a) a float64 host reference to float32 rounding and (b) what the unpatched jax-js computed
 * (test/fixtures/matmul_unpatched.json, written by test/fixtures/make_matmul_fixture.ts).
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { engine } from "../helpers/engine.ts";
import { CASES, runCase, summary, values, type MatmulCase } from "./matmulCases.ts";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/matmul_unpatched.json", import.meta.url), "utf8")) as Record<string, ReturnType<typeof summary>[]>;

test("the micro-tile patch is applied to both jax-js builds (ESM and CommonJS)", () => {
  const dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
  const files = readdirSync(dist).filter((f) => /^backend-.*\.(c?js)$/.test(f));
  assert.equal(files.length, 2, `backend files in ${dist}: ${files.join(", ")}`);
  for (const f of files) {
    const src = readFileSync(join(dist, f), "utf8");
    assert.match(src, /^const TILED_SIMD_MICRO_ROWS = 2;$/m, `${f}: run npm install (its postinstall applies patches/ with patch-package)`);
  }
});

/** Host float64 A @ B for [.., m, k] @ [.., k, n] (a 2-D right operand broadcasts); also Σ|a||b| per entry. */
function hostMatmul(a: Float64Array, as: number[], b: Float64Array, bs: number[]): { c: Float64Array; mag: Float64Array } {
  const [m, k] = as.slice(-2) as [number, number];
  const n = bs.at(-1)!;
  const batch = as.length === 3 ? as[0]! : 1;
  const bBatched = bs.length === 3;
  const c = new Float64Array(batch * m * n);
  const mag = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        let g = 0;
        for (let l = 0; l < k; l++) {
          const x = a[p * m * k + i * k + l]! * b[(bBatched ? p * k * n : 0) + l * n + j]!;
          s += x;
          g += Math.abs(x);
        }
        c[p * m * n + i * n + j] = s;
        mag[p * m * n + i * n + j] = g;
      }
  return { c, mag };
}

function transpose(x: Float64Array, shape: number[]): { x: Float64Array; shape: number[] } {
  const [r, c] = shape.slice(-2) as [number, number];
  const batch = shape.length === 3 ? shape[0]! : 1;
  const out = new Float64Array(x.length);
  for (let p = 0; p < batch; p++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[p * r * c + j * r + i] = x[p * r * c + i * c + j]!;
  return { x: out, shape: [...shape.slice(0, -2), c, r] };
}

/** The float64 reference of a case, or null where the test relies on the fixture alone (the GELU epilogue). */
function reference(c: MatmulCase, seed: number): { outs: Float64Array[]; mags: Float64Array[] } | null {
  let a: Float64Array = Float64Array.from(values(seed, c.a));
  let b: Float64Array = Float64Array.from(values(seed + 1, c.b));
  let as = c.a;
  let bs = c.b;
  if (c.name.startsWith("a @ bᵀ")) ({ x: b, shape: bs } = transpose(b, bs));
  if (c.name.startsWith("aᵀ @ b")) ({ x: a, shape: as } = transpose(a, as));
  if (c.name.startsWith("bias + gelu")) return null;
  const { c: prod, mag } = hostMatmul(a, as, b, bs);
  if (!c.name.startsWith("grad")) return { outs: [prod], mags: [mag] };
  // L = Σ C², dL/dA = 2 C Bᵀ, dL/dB = 2 Σ_batch Aᵀ C (B is 2-D, shared across the batch)
  const loss = prod.reduce((s, x) => s + x * x, 0);
  const c2 = prod.map((x) => 2 * x);
  const cs = [...as.slice(0, -1), bs.at(-1)!];
  const bt = transpose(b, bs);
  const dA = hostMatmul(c2, cs, bt.x, bt.shape);
  const [batch, m, k] = as as [number, number, number];
  const n = bs.at(-1)!;
  const dB = new Float64Array(k * n);
  const dBmag = new Float64Array(k * n);
  for (let p = 0; p < batch; p++) {
    const at = transpose(a.subarray(p * m * k, (p + 1) * m * k), [m, k]);
    const part = hostMatmul(at.x, at.shape, c2.subarray(p * m * n, (p + 1) * m * n), [m, n]);
    for (let i = 0; i < k * n; i++) {
      dB[i] = dB[i]! + part.c[i]!;
      dBmag[i] = dBmag[i]! + part.mag[i]!;
    }
  }
  return { outs: [Float64Array.of(loss), dA.c, dB], mags: [Float64Array.of(prod.reduce((s, x) => s + x * x, 0)), dA.mag, dBmag] };
}

test("matmul kernel: odd, batched and transposed products, a fused epilogue and gradients equal the float64 reference and the unpatched jax-js", async () => {
  await engine();
  for (const [i, c] of CASES.entries()) {
    const seed = 100 + 2 * i;
    const got = await runCase(c, seed);
    const want = fixture[c.name];
    assert.ok(want, `${c.name}: missing from the fixture (rerun test/fixtures/make_matmul_fixture.ts with the patch reversed)`);
    assert.equal(got.length, want.length, `${c.name}: outputs`);
    got.forEach((g, o) => {
      const s = summary(g);
      const w = want[o]!;
      assert.equal(s.n, w.n, `${c.name} output ${o}: length`);
      const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(1, Math.abs(y));
      assert.ok(rel(s.sumSq, w.sumSq) < 1e-5, `${c.name} output ${o}: Σx² ${s.sumSq} vs unpatched ${w.sumSq}`);
      assert.ok(Math.abs(s.sum - w.sum) < 1e-5 * Math.sqrt(w.sumSq * w.n) + 1e-6, `${c.name} output ${o}: Σx ${s.sum} vs unpatched ${w.sum}`);
      s.sample.forEach((x, j) => assert.ok(rel(x, w.sample[j]!) < 1e-5, `${c.name} output ${o}, value ${37 * j}: ${x} vs unpatched ${w.sample[j]}`));
    });
    const ref = reference(c, seed);
    if (!ref) continue;
    ref.outs.forEach((r, o) => {
      const g = got[o]!;
      const k = Math.max(...c.a, ...c.b);
      for (let j = 0; j < r.length; j++) {
        const tol = 4 * 2 ** -24 * Math.sqrt(k) * ref.mags[o]![j]! + 1e-6;
        assert.ok(Math.abs(g[j]! - r[j]!) <= tol, `${c.name} output ${o}[${j}]: ${g[j]} vs float64 ${r[j]} (tol ${tol})`);
      }
    });
  }
});
