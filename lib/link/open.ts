// Opening links from plain specs (what a config file holds) — the one place a backend is opened
// (lib/runtime's platform goes through `openLink`) — and closing them all on shutdown: a LinkSet
// owns every link, monitor and plumbing change it made and releases them together.
import type { Link } from "./link.ts";
import { TapLink } from "./tap.ts";
import { PacketLink } from "./packet_socket.ts";
import { DlpiLink } from "./dlpi.ts";
import { LinkMonitor } from "./monitor.ts";
import { Plumber } from "./plumb.ts";
import { parseMac } from "../packet/bytes.ts";

/** A link as configuration describes it. */
export type LinkSpec =
  | {
    kind: "tap";
    name: string;
    mac?: string;
    mtu?: number;
    netns?: string;
    queues?: number;
    /** TUN_F_* offloads the zone may hand over (virtio-net headers on the fd; 0: none). */
    offload?: number;
    /**
     * fd of one queue of this existing multi-queue TAP that another owner created (e.g. handed
     * to a second datapath worker): wrapped as is, nothing is created.
     */
    adopt?: number;
  }
  | {
    kind: "packet";
    ifname: string;
    netns?: string;
    promisc?: boolean;
    allmulti?: boolean;
    vnetHdr?: boolean;
    /** Receive mode (PacketLinkOptions.rx). */
    rx?: "ring" | "mmsg";
    /** Classic BPF socket filter bytes (PacketLinkOptions.filter). */
    filter?: Uint8Array;
  }
  | { kind: "dlpi"; linkname: string; library?: string; promisc?: boolean };

/** Opens one link from its spec (a multi-queue TAP yields its first queue; see LinkSet.open). */
export function openLink(spec: LinkSpec): Link[] {
  switch (spec.kind) {
    case "tap": {
      if (spec.adopt !== undefined) {
        return [TapLink.adopt(spec.name, spec.adopt, spec.netns ?? null, spec.offload)];
      }
      const mac = spec.mac === undefined ? undefined : parseMac(spec.mac);
      if (mac === null) throw new Error(`tap ${spec.name}: mac "${spec.mac}" is not a MAC address`);
      return TapLink.openQueues(
        { name: spec.name, mac, mtu: spec.mtu, netns: spec.netns, offload: spec.offload },
        spec.queues ?? 1,
      );
    }
    case "packet":
      return [PacketLink.open(spec)];
    case "dlpi":
      return [DlpiLink.open(spec)];
  }
}

/** Everything opened for one switch instance, released in reverse order by `close()`. */
export class LinkSet {
  readonly links: Link[] = [];
  private readonly monitors = new Map<string, LinkMonitor>();
  private readonly plumbers: Plumber[] = [];
  private closed = false;

  /** Opens the links of `spec` and watches their state (TAP and packet links on Linux). */
  open(spec: LinkSpec): Link[] {
    if (this.closed) throw new Error("LinkSet is closed");
    const ls = openLink(spec);
    this.links.push(...ls);
    if (spec.kind !== "dlpi") {
      const ns = spec.netns ?? "";
      let mon = this.monitors.get(ns);
      if (!mon) {
        mon = new LinkMonitor(spec.netns ?? null);
        this.monitors.set(ns, mon);
      }
      for (const l of ls) mon.watch(l as TapLink | PacketLink);
    }
    return ls;
  }

  /** Opens every spec; on any failure closes what this call opened and rethrows. */
  openAll(specs: LinkSpec[]): Link[] {
    const before = this.links.length;
    try {
      return specs.flatMap((s) => this.open(s));
    } catch (e) {
      for (const l of this.links.splice(before).reverse()) l.close();
      throw e;
    }
  }

  /** A Plumber for `netns` whose changes are undone when the set closes. */
  plumber(netns: string | null = null): Plumber {
    const p = new Plumber(netns);
    this.plumbers.push(p);
    return p;
  }

  /** The fds of the link monitors (add them to the datapath's poll set). */
  monitorFds(): number[] {
    return [...this.monitors.values()].map((m) => m.fd);
  }

  /** Applies pending link-state notifications; returns how many arrived. */
  pollMonitors(): number {
    let n = 0;
    for (const m of this.monitors.values()) n += m.poll().length;
    return n;
  }

  /** Undoes plumbing, closes monitors and links (newest first). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const errors: unknown[] = [];
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (e) {
        errors.push(e);
      }
    };
    for (const p of this.plumbers.reverse()) attempt(() => p.close());
    for (const m of this.monitors.values()) attempt(() => m.close());
    for (const l of this.links.reverse()) attempt(() => l.close());
    if (errors.length) throw new AggregateError(errors, "closing links failed");
  }
}
