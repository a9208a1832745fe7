import assert from "node:assert/strict";
import { copyBytes } from "../../lib/packet/bytes.ts";
import { frameBuffer, slabMove } from "../../lib/packet/slab.ts";

/** A reference copy through a plain array (independent of copyBytes' fast paths). */
function reference(src: Uint8Array, so: number, dst: Uint8Array, d: number, n: number) {
  const tmp = Array.from(src.subarray(so, so + n));
  const out = Uint8Array.from(dst);
  tmp.forEach((x, i) => out[d + i] = x);
  return out;
}

const fill = (b: Uint8Array, seed: number) => b.forEach((_, i) => b[i] = (i * 31 + seed) & 0xff);

Deno.test("slab: frame buffers of one slab copy by memmove, other buffers do not", () => {
  const a = frameBuffer(9000), b = frameBuffer(9000);
  assert.equal(a.buffer, b.buffer, "consecutive frames share a slab");
  assert.ok(a.every((x) => x === 0) && b.every((x) => x === 0), "zeroed");
  fill(a, 1);
  fill(b, 2);
  const want = reference(a, 7, b, 3, 8192);
  assert.equal(slabMove(a, 7, b, 3, 8192), true);
  assert.deepEqual(b, want);
  // Neighbours are untouched: the view bounds hold.
  assert.ok(a.subarray(0, 7).every((x, i) => x === ((i * 31 + 1) & 0xff)));
  assert.equal(slabMove(new Uint8Array(100), 0, b, 0, 64), false, "a plain buffer is no slab");
});

Deno.test("copyBytes: equal to a reference copy for every size, across and within buffers", () => {
  const a = frameBuffer(4096), b = frameBuffer(4096), plain = new Uint8Array(4096);
  for (const n of [0, 1, 63, 64, 65, 1448, 4000]) {
    for (const [src, dst] of [[a, b], [plain, b], [a, plain]]) {
      fill(src, n);
      fill(dst, n + 1);
      const want = reference(src, 5, dst, 90, n);
      copyBytes(src, 5, dst, 90, n);
      assert.deepEqual(dst, want, `${n} bytes`);
    }
    // Overlapping, forwards and backwards (memmove semantics).
    for (const [from, to] of [[5, 90], [90, 5]]) {
      fill(a, n + 2);
      const want = reference(a, from, a, to, n);
      copyBytes(a, from, a, to, n);
      assert.deepEqual(a, want, `${n} bytes overlapping ${from}→${to}`);
    }
  }
});
