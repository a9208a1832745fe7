// Readiness for a datapath loop (Switch.run): what it waits on when no frame is pending. Links
// with a `readiness` (memory wires) wake a promise; the others (TAP, packet socket, DLPI) are
// polled through FFI poll(2), which blocks the calling thread up to the timeout — run the
// datapath in a Worker for that (DESIGN.md). It lives with the links, not the switch: the switch
// is handed a wait function and never names a backend.

import type { Link, LinkWait, Readiness } from "./link.ts";
import { waitAny } from "./memory.ts";

/** What the waiter watches: the current links and a number that changes when they do. */
export interface LinkSource {
  links(): Link[];
  readonly linkVersion: number;
  /** Per-link read flags in `links()` order; the waiter sets those of polled links. */
  readyFlags?(): Uint8Array;
}

/**
 * An fd that is not a link but belongs in the same poll(2) set, such as a netlink monitor:
 * `onReadable` runs (between passes) whenever a wait finds it readable, so the loop needs no
 * timer tick to look at it.
 */
export interface FdWatch {
  readonly fd: number;
  onReadable(): void;
}

/**
 * A wait function over the source's current links (rebuilt when ports come and go) and the
 * `watches` fds.
 */
export function linkWaiter(sw: LinkSource, watches: readonly FdWatch[] = []): LinkWait {
  let version = -1;
  let mem: Readiness[] = [];
  let fds: number[] = [];
  /** Position in `sw.links()` of each polled fd, and what the last poll said of it. */
  let at: number[] = [];
  let fdReady = new Uint8Array(0);
  let poll: ((fds: readonly number[], timeoutMs: number, ready: Uint8Array) => number) | null =
    null;
  let loading: Promise<void> | null = null;
  const refresh = () => {
    const links: Link[] = sw.links();
    mem = links.flatMap((l) => l.readiness ? [l.readiness] : []);
    at = links.flatMap((l, i) => !l.readiness && l.fd >= 0 ? [i] : []);
    fds = [...at.map((i) => links[i].fd), ...watches.map((w) => w.fd)];
    fdReady = new Uint8Array(fds.length);
    version = sw.linkVersion;
  };
  const wait = (timeoutMs: number) => {
    if (version !== sw.linkVersion) refresh();
    if (fds.length === 0) return waitAny(mem, timeoutMs);
    if (poll === null) {
      // Loaded on first use so memory-only switches never need FFI permission.
      loading ??= import("./poll.ts").then((m) => {
        poll = m.pollLinks;
      });
      return loading;
    }
    // Memory links beside real ones are checked on the next pass; keep the block short then.
    poll(fds, mem.length > 0 ? Math.min(1, timeoutMs) : timeoutMs, fdReady);
    if (sw.readyFlags) {
      const flags = sw.readyFlags();
      for (let i = 0; i < at.length; i++) flags[at[i]] = fdReady[i];
    }
    for (let j = 0; j < watches.length; j++) {
      if (fdReady[at.length + j] !== 0) watches[j].onReadable();
    }
    return undefined;
  };
  return Object.assign(wait, { marksReady: sw.readyFlags !== undefined });
}
