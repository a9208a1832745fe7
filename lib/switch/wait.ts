// Readiness for Switch.run: what the loop waits on when no frame is pending. Memory links wake
// a promise; real links (TAP, packet socket, DLPI) are polled through FFI poll(2), which blocks
// the calling thread up to the timeout — run the datapath in a Worker for that (DESIGN.md).

import type { Link } from "../link/link.ts";
import { MemoryLink, waitAny } from "../link/memory.ts";
import type { Switch } from "./switch.ts";

/**
 * Waits up to `timeoutMs` for a frame on any link. `marksReady`: it also records in the
 * switch's `readyFlags()` which polled links are readable, so a pass reads only those.
 */
export type LinkWait = ((timeoutMs: number) => Promise<unknown> | unknown) & {
  marksReady?: boolean;
};

/** A wait function over the switch's current links, rebuilt when ports come and go. */
export function linkWaiter(sw: Switch): LinkWait {
  let version = -1;
  let mem: MemoryLink[] = [];
  let fds: number[] = [];
  /** Position in `sw.links()` of each polled fd, and what the last poll said of it. */
  let at: number[] = [];
  let fdReady = new Uint8Array(0);
  let poll: ((fds: readonly number[], timeoutMs: number, ready: Uint8Array) => number) | null =
    null;
  let loading: Promise<void> | null = null;
  const refresh = () => {
    const links: Link[] = sw.links();
    mem = links.filter((l): l is MemoryLink => l instanceof MemoryLink);
    at = links.flatMap((l, i) => !(l instanceof MemoryLink) && l.fd >= 0 ? [i] : []);
    fds = at.map((i) => links[i].fd);
    fdReady = new Uint8Array(fds.length);
    version = sw.linkVersion;
  };
  const wait = (timeoutMs: number) => {
    if (version !== sw.linkVersion) refresh();
    if (fds.length === 0) return waitAny(mem, timeoutMs);
    if (poll === null) {
      // Loaded on first use so memory-only switches never need FFI permission.
      loading ??= import("../link/poll.ts").then((m) => {
        poll = m.pollLinks;
      });
      return loading;
    }
    // Memory links beside real ones are checked on the next pass; keep the block short then.
    poll(fds, mem.length > 0 ? Math.min(1, timeoutMs) : timeoutMs, fdReady);
    const flags = sw.readyFlags();
    for (let i = 0; i < at.length; i++) flags[at[i]] = fdReady[i];
    return undefined;
  };
  return Object.assign(wait, { marksReady: true });
}
