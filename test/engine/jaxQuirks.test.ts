/**
 * Pins the jax-js 0.1.25 behaviours our code works around, so an upgrade that fixes or changes them fails here
 * and we can drop the workaround (docs/ENGINE.md, "Known gaps and bugs").
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { arr, assertClose, engine, np, values } from "../helpers/engine.ts";

before(engine);

describe("jax-js 0.1.25 quirks", () => {
  const a = [1, 2, 3, 4, 5, 6]; // [3, 2]
  const b = [1, 0, 0, 1, 2, 3, 4, 5]; // [2, 2, 2]: b[0] = I, b[1] = [[2, 3], [4, 5]]
  const expected = [
    // a @ b[0] = a
    1, 2, 3, 4, 5, 6,
    // a @ b[1]
    1 * 2 + 2 * 4, 1 * 3 + 2 * 5, 3 * 2 + 4 * 4, 3 * 3 + 4 * 5, 5 * 2 + 6 * 4, 5 * 3 + 6 * 5,
  ];

  it("matmul of a 2-D left operand with a 3-D right operand is wrong (the bug we avoid)", async () => {
    const y = np.matmul(arr(a, [3, 2]), arr(b, [2, 2, 2]));
    // NumPy gives [2, 3, 2]; jax-js 0.1.25 gives [3, 2, 2]. When this fails, the bug is fixed or changed.
    assert.deepEqual(y.shape, [3, 2, 2]);
    y.dispose();
  });

  it("an explicit broadcastTo of the left operand gives the right answer (the workaround)", async () => {
    const left = np.broadcastTo(arr(a, [3, 2]), [2, 3, 2]);
    const y = np.matmul(left, arr(b, [2, 2, 2]));
    assert.deepEqual(y.shape, [2, 3, 2]);
    assertClose(await values(y), expected, 0, 0);
  });

  it("3-D @ 2-D broadcasts correctly (what linear layers rely on)", async () => {
    const y = np.matmul(arr(b, [2, 2, 2]), arr([1, 2, 3, 4], [2, 2]));
    assertClose(await values(y), [1, 2, 3, 4, 2 * 1 + 3 * 3, 2 * 2 + 3 * 4, 4 * 1 + 5 * 3, 4 * 2 + 5 * 4], 0, 0);
  });

  it("einsum (and so nn.dotProductAttention) needs iterator helpers that Node 20 lacks", () => {
    const hasIteratorHelpers = typeof (globalThis as { Iterator?: { prototype?: { map?: unknown } } }).Iterator?.prototype?.map === "function";
    const call = () => np.einsum("ij,jk->ik", arr([1, 2, 3, 4], [2, 2]), arr([1, 0, 0, 1], [2, 2])).dispose();
    if (hasIteratorHelpers) call(); // Node ≥ 22: works; layers.ts could go back to nn.dotProductAttention
    else assert.throws(call, /is not a function/);
  });
});
