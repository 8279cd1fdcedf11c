import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createProgress, formatDuration } from "../../src/cli/progress.ts";

/** A stream that records what is written; `isTTY` as asked. */
function recorder(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = "";
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY, columns: 80, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream: w, text: () => text };
}

describe("progress", () => {
  it("prints one summary line and no bar when the stream is not a TTY", () => {
    const r = recorder(false);
    const p = createProgress({ label: "train", total: 3, stream: r.stream });
    p.increment("a");
    p.increment("b");
    p.stop();
    p.stop(); // a second stop prints nothing
    assert.match(r.text(), /^train: 2\/3 \(\d+ ms\)\n$/);
  });
  it("prints nothing at all when quiet", () => {
    const r = recorder(true);
    const p = createProgress({ label: "train", total: 3, quiet: true, stream: r.stream });
    p.update(3);
    p.stop("done");
    assert.equal(r.text(), "");
  });
  it("draws a bar on a TTY and ends with the summary", () => {
    const r = recorder(true);
    const p = createProgress({ label: "check", total: 2, stream: r.stream });
    p.update(1, "matmul");
    p.stop("all good");
    assert.match(r.text(), /check \[.*\] 0\/2/);
    assert.match(r.text(), /check: all good \(\d+ ms\)\n$/);
  });
  it("formats durations", () => {
    assert.equal(formatDuration(849.6), "850 ms");
    assert.equal(formatDuration(12_345), "12.3 s");
    assert.equal(formatDuration(245_000), "4 min 05 s");
  });
});
