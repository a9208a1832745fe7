// Network namespace placement through setns(2). setns changes only the calling thread, and
// FFI calls run on the JS thread, so a socket created between two setns calls belongs to the
// target namespace and keeps working after we switch back.
import { C } from "./layout.ts";
import { check, cstr, libc } from "./libc.ts";

/** Path of a named namespace as `ip netns add` creates it. */
export function netnsPath(name: string): string {
  return name.startsWith("/") ? name : `/run/netns/${name}`;
}

/** Opens a namespace file (name or absolute path); the caller closes the fd. */
export function openNetns(name: string): number {
  return check(libc.open(cstr(netnsPath(name)), C.O_RDONLY | C.O_CLOEXEC, 0), "open", name);
}

/** Runs `fn` with the calling thread inside namespace `name` (null: stays here). */
export function withNetns<T>(name: string | null | undefined, fn: () => T): T {
  if (!name) return fn();
  const home = check(
    libc.open(cstr("/proc/thread-self/ns/net"), C.O_RDONLY | C.O_CLOEXEC, 0),
    "open",
    "/proc/thread-self/ns/net",
  );
  let target = -1;
  try {
    target = openNetns(name);
    check(libc.setns(target, C.CLONE_NEWNET), "setns", name);
    try {
      return fn();
    } finally {
      restore(home);
    }
  } finally {
    if (target >= 0) libc.close(target);
    libc.close(home);
  }
}

// Failing to return would leave the JS thread inside the zone: nothing after that is safe.
function restore(home: number): void {
  if (libc.setns(home, C.CLONE_NEWNET) < 0) {
    throw new Error("setns back to the original network namespace failed");
  }
}
