// /proc/sys files through libc open/read/write. Deno's own file API treats everything under /proc
// as a special file that only --allow-all may touch, whatever --allow-read/--allow-write grant;
// through FFI the service needs no file permission beyond --allow-ffi for its sysctls.
import { C } from "./layout.ts";
import { check, cstr, libc } from "./libc.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Path of a dotted sysctl key (`net.ipv6.conf.xde0.accept_dad`); throws on anything else. */
export function sysctlPath(key: string): string {
  if (!/^[\w-]+(\.[\w-]+)*$/.test(key)) throw new Error(`sysctl key "${key}" is not a dotted name`);
  return `/proc/sys/${key.replaceAll(".", "/")}`;
}

/** Reads a sysctl of the calling thread's namespace (trimmed); throws SysError. */
export function readSysctl(key: string): string {
  const path = sysctlPath(key);
  const fd = check(libc.open(cstr(path), C.O_RDONLY | C.O_CLOEXEC, 0), "open", path);
  try {
    const buf = new Uint8Array(4096);
    let n = 0;
    for (;;) {
      const r = check(libc.read(fd, buf.subarray(n), BigInt(buf.length - n)), "read", path);
      if (r === 0 || (n += r) === buf.length) break;
    }
    return dec.decode(buf.subarray(0, n)).trim();
  } finally {
    libc.close(fd);
  }
}

/** Writes a sysctl of the calling thread's namespace in one write(2); throws SysError. */
export function writeSysctl(key: string, value: string): void {
  const path = sysctlPath(key);
  const fd = check(libc.open(cstr(path), C.O_RDWR | C.O_CLOEXEC, 0), "open", path);
  try {
    const data = enc.encode(value);
    check(libc.write(fd, data, BigInt(data.length)), "write", path);
  } finally {
    libc.close(fd);
  }
}
