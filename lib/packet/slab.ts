// Frame buffers carved from large shared slabs, so that a copy between two frames of one slab is
// a single `copyWithin` (the engine's memmove) that allocates nothing. Copying across different
// buffers otherwise needs `set(subarray(…))`, which allocates a view per copy, or a JS byte loop,
// which moves about one byte per nanosecond: ~25x slower than memmove for an 8 KB segment.

/** Bytes of one slab: about a thousand 64 KB frames; the memory is only touched when used. */
const SLAB = 64 << 20;
/** Frames start on this boundary (cache lines; also keeps word copies aligned). */
const ALIGN = 64;

/** The whole-slab view of each slab, by its ArrayBuffer. */
const slabs = new WeakMap<ArrayBufferLike, Uint8Array>();
let current: Uint8Array | null = null;
let used = 0;

/** A zeroed buffer of `size` bytes from the current slab (a fresh slab when it is full). */
export function frameBuffer(size: number): Uint8Array {
  if (size > SLAB / 4) return new Uint8Array(size);
  if (current === null || used + size > current.length) {
    current = new Uint8Array(SLAB);
    slabs.set(current.buffer, current);
    used = 0;
  }
  const b = new Uint8Array(current.buffer, used, size);
  used += Math.ceil(size / ALIGN) * ALIGN;
  return b;
}

/**
 * Moves `len` bytes from `src[srcOff..]` to `dst[dstOff..]` with one memmove when both buffers
 * lie in one slab; false (nothing copied) otherwise. Overlapping ranges are handled.
 */
export function slabMove(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  len: number,
): boolean {
  const ab = src.buffer;
  if (ab !== dst.buffer) return false;
  const whole = slabs.get(ab);
  if (whole === undefined) return false;
  const from = src.byteOffset + srcOff;
  whole.copyWithin(dst.byteOffset + dstOff, from, from + len);
  return true;
}
