// libc through Deno.dlopen: the only way xdeno reaches the Linux kernel.
// Signatures are fixed (ioctl/open/fcntl are variadic in C; on x86-64 SysV the fixed form is
// ABI-compatible for integer and pointer arguments). 64-bit results come back as bigint in
// Deno, so calls whose result fits in 32 bits (ssize_t of one frame, fds, status codes) are
// declared i32: the low half of rax is the same value.

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  dup: { parameters: ["i32"], result: "i32" },
  dup3: { parameters: ["i32", "i32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  readv: { parameters: ["i32", "pointer", "i32"], result: "i32" },
  writev: { parameters: ["i32", "pointer", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  ioctl_int: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "i32",
  },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recvmmsg: { parameters: ["i32", "pointer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "pointer", "u32", "i32"], result: "i32" },
  poll: { parameters: ["pointer", "u64", "i32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
  sched_yield: { parameters: [], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
} as const;

/** The opened libc with the symbols above (one per thread/Worker that imports this module). */
export const libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;

// errno is thread-local; its address is fixed for the thread that loaded this module.
const errnoView = new Deno.UnsafePointerView(libc.__errno_location()!);

/** The calling thread's errno (read right after a failing call). */
export function errno(): number {
  return errnoView.getInt32(0);
}

/** The text of an errno value. */
export function strerror(code: number): string {
  const p = libc.strerror(code);
  return p ? Deno.UnsafePointerView.getCString(p) : `errno ${code}`;
}

/** A failed system call on the control path (the data path counts errors instead). */
export class SysError extends Error {
  constructor(readonly call: string, readonly code: number, detail = "") {
    super(`${call}${detail ? ` (${detail})` : ""}: ${strerror(code)} [errno ${code}]`);
    this.name = "SysError";
  }
}

/** Throws SysError when `ret` is negative; returns `ret` otherwise. */
export function check(ret: number, call: string, detail = ""): number {
  if (ret < 0) throw new SysError(call, errno(), detail);
  return ret;
}

const enc = new TextEncoder();

/** A NUL-terminated copy of `s` for `char *` parameters. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(s.length * 3 + 1);
  const { written } = enc.encodeInto(s, b);
  return b.subarray(0, written + 1);
}

/** Reads a NUL-terminated string out of `b` starting at `off` (at most `max` bytes). */
export function readCstr(b: Uint8Array, off: number, max: number): string {
  let end = off;
  while (end < off + max && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

const addrCache = new WeakMap<ArrayBufferLike, number>();

/**
 * The address of `u8[0]` as a plain number. Backing stores of ArrayBuffers do not move, so the
 * address is computed once per buffer and cached; this avoids pointer objects per frame.
 */
export function addressOf(u8: Uint8Array): number {
  let base = addrCache.get(u8.buffer);
  if (base === undefined) {
    const whole = new Uint8Array(u8.buffer as ArrayBuffer);
    base = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(whole)));
    addrCache.set(u8.buffer, base);
  }
  return base + u8.byteOffset;
}

/** Writes a 64-bit address (a number below 2^53) into two u32 words at word index `w`. */
export function putAddress(words: Uint32Array, w: number, addr: number): void {
  words[w] = addr % 0x100000000;
  words[w + 1] = Math.floor(addr / 0x100000000);
}

/** A pointer object for a pinned buffer (control path: allocates). */
export function ptr(u8: Uint8Array): Deno.PointerValue {
  return Deno.UnsafePointer.of(u8 as Uint8Array<ArrayBuffer>);
}
