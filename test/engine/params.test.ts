import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, engine, values } from "../helpers/engine.ts";
import { random } from "@jax-js/jax";
import { dispose, namedLeaves, ones, paramCount, rebuild, ref, truncNormal, zeros } from "../../src/engine/params.ts";

before(engine);

describe("parameter trees", () => {
  it("names leaves with dotted paths in a stable order and counts scalars", () => {
    const tree = { enc: { blocks: [{ w: zeros([2, 3]) }, { w: zeros([2, 3]) }], norm: ones([3]) }, head: zeros([4]) };
    assert.deepEqual(
      namedLeaves(tree).map(([n, a]) => `${n}:${a.shape.join("x")}`),
      ["enc.blocks.0.w:2x3", "enc.blocks.1.w:2x3", "enc.norm:3", "head:4"],
    );
    assert.equal(paramCount(tree), 6 + 6 + 3 + 4);
    dispose(tree);
  });
  it("rebuilds a tree of the same shape from named values", async () => {
    const like = { a: [zeros([1]), zeros([2])], b: zeros([1]) };
    const values_: Record<string, number[]> = { "a.0": [1], "a.1": [2, 3], b: [4] };
    const t = rebuild(like, (name, leaf) => {
      const v = values_[name]!;
      assert.deepEqual(leaf.shape, [v.length]);
      return arr(v, [v.length]);
    });
    dispose(like);
    assert.deepEqual(await values(t.a[1]!), [2, 3]);
    assert.deepEqual(await values(t.b), [4]);
    dispose(t.a[0]!);
  });
  it("ref adds a reference to every leaf, dispose drops one", async () => {
    const t = { x: arr([1, 2], [2]) };
    dispose(ref(t)); // +1 then −1: still alive
    assert.deepEqual(await values(t.x), [1, 2]);
    assert.throws(() => t.x.shape && t.x.dispose()); // consumed by values(): using it again throws
  });
});

describe("initialisers", () => {
  it("truncated normal has the right std, no value beyond 2 std, and is deterministic per key", async () => {
    const v = await values(truncNormal(random.key(5), [100, 100], 0.02));
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    // std of N(0,1) truncated to ±2 is 0.8796
    assert.ok(Math.abs(mean) < 0.02 * 0.03, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.02 * 0.8796) < 0.02 * 0.01, `std ${std}`);
    assert.ok(v.every((x) => Math.abs(x) <= 0.04 + 1e-9), "a value lies beyond 2 std");
    const again = await values(truncNormal(random.key(5), [100, 100], 0.02));
    assert.deepEqual(again, v);
    const other = await values(truncNormal(random.key(6), [100, 100], 0.02));
    assert.notDeepEqual(other, v);
  });
});
