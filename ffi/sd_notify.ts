// sd_notify(3) without libsystemd: one datagram of `KEY=value` lines to the unix socket named by
// $NOTIFY_SOCKET (a path, or `@name` in the abstract namespace). Deno cannot send on an unbound
// unix datagram socket (Deno.listenDatagram binds a path and is unstable), so libc does it.
import { C } from "./layout.ts";
import { check, cstr, libc } from "./libc.ts";

const SUN_PATH_MAX = 108;
const CLOCK_MONOTONIC = 1;

// clock_gettime lives here rather than in libc.ts: only the service's notifications need it.
const clock = Deno.dlopen("libc.so.6", {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
}).symbols;

/** CLOCK_MONOTONIC in microseconds (what systemd's MONOTONIC_USEC= compares against). */
export function monotonicUsec(): bigint {
  const ts = new BigInt64Array(2);
  check(clock.clock_gettime(CLOCK_MONOTONIC, new Uint8Array(ts.buffer)), "clock_gettime");
  return ts[0] * 1_000_000n + ts[1] / 1000n;
}

/** A `struct sockaddr_un` for `path` (`@name`: abstract) and its length. */
export function sockaddrUn(path: string): [Uint8Array, number] {
  const name = cstr(path.startsWith("@") ? path.slice(1) : path).subarray(0, -1);
  if (name.length === 0 || name.length >= SUN_PATH_MAX) {
    throw new Error(`NOTIFY_SOCKET ${JSON.stringify(path)} is not a unix socket address`);
  }
  const sa = new Uint8Array(2 + SUN_PATH_MAX);
  new DataView(sa.buffer).setUint16(0, C.AF_UNIX, true);
  // Abstract names start with a NUL and are not terminated; paths are NUL-terminated.
  const abstract = path.startsWith("@");
  sa.set(name, abstract ? 3 : 2);
  return [sa, 2 + name.length + 1];
}

/** Sends `state` (e.g. "READY=1") to `socket`; throws SysError when the send fails. */
export function sdNotify(socket: string, state: string): void {
  const [sa, len] = sockaddrUn(socket);
  const fd = check(libc.socket(C.AF_UNIX, C.SOCK_DGRAM | C.SOCK_CLOEXEC, 0), "socket");
  try {
    const msg = new TextEncoder().encode(state);
    check(libc.sendto(fd, msg, BigInt(msg.length), 0, sa, len), "sendto", socket);
  } finally {
    libc.close(fd);
  }
}
