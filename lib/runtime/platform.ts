// Where a runtime's links come from. `memory`: in-process wires whose far ends tests (and the
// unprivileged service) hold; `linux`: TAP devices xdeno creates (the GZ's xde0, zones' ports
// moved into their namespaces and plumbed there) and packet sockets on existing underlay links.

import type { Link } from "../link/link.ts";
import type { FdWatch } from "../link/wait.ts";
import { MemoryLink, memoryPair } from "../link/memory.ts";
import type { PortSpec } from "../config/resources.ts";
import { addressOf } from "./translate.ts";
import { InvalidField } from "../contract/field_error.ts";
import type { PacketLink } from "../link/packet_socket.ts";
import { type QueueHandoff, SendOnlyLink } from "./queues.ts";

/** A port's link plus how to undo what was done for it beyond the link (plumbing). */
export interface PortLink {
  link: Link;
  /** Undoes plumbing; the switch closes the link itself on removePort. */
  release(): void;
}

/** What the sled looks like to port plumbing. */
export interface SledInfo {
  underlayAddress: string;
  /** e.g. "fd00::/16". */
  underlayPrefix: string;
  /** The switch's gateway link-local (zones route the underlay prefix via it). */
  gatewayLinkLocal: string;
}

/** A source of links for one runtime. */
export interface Platform {
  readonly name: "linux" | "memory";
  /** Opens underlay link `name` on device `device`. */
  underlay(name: string, device: string): Link;
  /** Creates (and plumbs) the link of a port. */
  port(p: PortSpec, sled: SledInfo): PortLink;
  /** Fds the datapath loop polls beside its links (link-state notifications). */
  watches?: readonly FdWatch[];
  /** Releases anything the platform still holds. */
  close(): void;
}

/** In-process links; `peer(name)` is the far end of a port or underlay link. */
export class MemoryPlatform implements Platform {
  readonly name = "memory";
  private readonly peers = new Map<string, MemoryLink>();

  /**
   * `underlayMtu`: MTU of the underlay wires (1500 by default; the rack's is 9000).
   * `underlayMac`: the MAC of an underlay link (default: derived from its name).
   */
  constructor(
    private readonly opts: {
      underlayMtu?: number;
      underlayMac?: (name: string) => Uint8Array | undefined;
    } = {},
  ) {}

  /** The far end (client side) of the link named `name`, if it exists. */
  peer(name: string): MemoryLink | undefined {
    return this.peers.get(name);
  }

  /** Names of every link with a far end. */
  names(): string[] {
    return [...this.peers.keys()];
  }

  /** An underlay wire; its far end plays the rack router. */
  underlay(name: string): Link {
    const mtu = this.opts.underlayMtu;
    const mac = this.opts.underlayMac?.(name);
    const [mine, far] = memoryPair({ name, mtu, mac }, { name: `${name}-peer`, mtu });
    this.peers.set(name, far);
    return mine;
  }

  /** A port wire; its far end is the zone (it uses the port's MAC). */
  port(p: PortSpec): PortLink {
    const [mine, far] = memoryPair(
      { name: p.name, mac: p.mac, mtu: p.mtu },
      { name: `${p.name}-client`, mac: p.mac, mtu: p.mtu },
    );
    this.peers.set(p.name, far);
    return { link: mine, release: () => this.peers.delete(p.name) };
  }

  /** Forgets every far end. */
  close(): void {
    this.peers.clear();
  }
}

/** Options of the Linux platform. */
export interface LinuxPlatformOptions {
  /**
   * Zones may hand over partial checksums and TSO super-frames (TUNSETOFFLOAD). TAPs and the
   * underlay carry virtio-net headers either way: what is written to a zone may be GSO.
   */
  offload?: boolean;
  /** Packet-socket receive mode. */
  rx?: "ring" | "mmsg";
  /**
   * Namespace that plays the global zone (the host port, underlay links, ports without a
   * zone); null: this thread's own. Tests use a throwaway one.
   */
  gzNetns?: string | null;
  /**
   * Ports other than the host port are existing devices (the test bed's veths) reached by packet
   * sockets: nothing is created or plumbed for them.
   */
  portDevices?: boolean;
  /** This worker's share when several datapath workers run (README "Several workers"). */
  share?: WorkerShare;
}

/** Which of `count` datapath workers this is, and what the workers share. */
export interface WorkerShare {
  index: number;
  count: number;
  handoff: QueueHandoff;
}

/** TAP ports and packet-socket underlay links (loaded lazily: FFI needs --allow-ffi). */
export async function linuxPlatform(o: LinuxPlatformOptions = {}): Promise<Platform> {
  // Every backend is opened through link/open.ts, the one place that turns a spec into a link.
  const { openLink } = await import("../link/open.ts");
  const packet = (
    ifname: string,
    netns: string | undefined,
    vnetHdr: boolean,
    filter?: Uint8Array,
  ): Link => {
    const [link] = openLink({
      kind: "packet",
      ifname,
      netns,
      promisc: true,
      allmulti: true,
      rx: o.rx,
      vnetHdr,
      filter,
    }) as PacketLink[];
    monitor.watch(link);
    return link;
  };
  const { Plumber } = await import("../link/plumb.ts");
  const { LinkMonitor } = await import("../link/monitor.ts");
  // Carrier changes of underlay links reach Link.isUp() (and ECMP) within one timer pass.
  const monitor = new LinkMonitor(o.gzNetns ?? null);
  const { VNET } = await import("../../ffi/layout.ts");
  const { check, libc } = await import("../../ffi/libc.ts");
  const { shareFilter } = await import("../link/share_filter.ts");
  const gz = o.gzNetns ?? undefined;
  // What the zones may hand over; every TAP carries virtio-net headers regardless, so a zone
  // without offload still receives GSO frames (one write per train or large segment).
  const offload = o.offload ? VNET.TUN_F_CSUM | VNET.TUN_F_TSO4 | VNET.TUN_F_TSO6 : 0;
  const share = o.share;
  return {
    name: "linux",
    underlay(_name: string, device: string): Link {
      // Each worker keeps its share of the underlay's frames (link/share_filter.ts).
      const filter = share ? shareFilter(share.index, share.count) : undefined;
      // Virtio-net headers even without offload: a peer's partial checksum (an xdeno sled's
      // large segments over a veth) is then completed on receive, never passed on unfinished.
      return packet(device, gz, true, filter);
    },
    port(p: PortSpec, sled: SledInfo): PortLink {
      const netns = p.kind === "host" ? gz : (p.zone ?? gz);
      if (o.portDevices && p.kind !== "host") {
        return { link: packet(p.name, netns, false), release() {} };
      }
      checkMac(p.mac, p.name);
      const tap = { kind: "tap" as const, name: p.name, netns, offload };
      if (share && share.index > 0) {
        // Worker 0 created and plumbed the device; this worker reads and writes its own queue,
        // or only writes into worker 0's (a VPC port).
        const q = share.handoff.adopt(p.name);
        const [link] = openLink({ ...tap, adopt: q.fd });
        return { link: q.pinned ? new SendOnlyLink(link) : link, release() {} };
      }
      // A VPC port has one queue, read by worker 0 alone (README "Several workers").
      const pinned = share !== undefined && p.overlay !== undefined;
      const queues = openLink({
        ...tap,
        mac: p.mac,
        mtu: p.mtu,
        queues: pinned ? 1 : share?.count ?? 1,
      });
      const link = queues[0];
      if (share) {
        const extra = !pinned
          ? queues.slice(1).map((q) => q.fd)
          : p.kind === "system"
          ? Array.from({ length: share.count - 1 }, () => check(libc.dup(link.fd), "dup", p.name))
          : [];
        share.handoff.put(p, extra, pinned);
      }
      const dropQueues = () => share?.handoff.drop(p.name);
      if (p.kind === "instance") return { link, release: dropQueues };
      const plumb = new Plumber(netns ?? null);
      try {
        // The switch answers NDP on the segment and is its only router.
        plumb.sysctl(`net.ipv6.conf.${p.name}.accept_dad`, "0");
        plumb.sysctl(`net.ipv6.conf.${p.name}.accept_ra`, "0");
        const addrs = p.addresses.length > 0 || p.kind !== "host"
          ? p.addresses
          : [`${sled.underlayAddress}/64`];
        for (const a of addrs) plumb.addAddress(p.name, a.includes("/") ? a : `${a}/64`);
        if (addrs.some((a) => addressOf(a).includes(":"))) {
          plumb.addRoute({ dst: sled.underlayPrefix, dev: p.name, via: sled.gatewayLinkLocal });
        }
      } catch (e) {
        plumb.close();
        dropQueues();
        link.close();
        throw e;
      }
      plumb.park(); // a socket left open in the zone would keep its namespace alive
      return {
        link,
        release: () => {
          dropQueues();
          plumb.close();
        },
      };
    },
    // Polled with the links: a carrier change is applied as soon as it is announced, and an
    // idle loop makes no recvfrom every timer tick to look for one.
    watches: [{ fd: monitor.fd, onReadable: () => void monitor.poll() }],
    close() {
      monitor.close();
    },
  };
}

/** Refuses a port MAC that is not one, naming the port's field (before anything is created). */
function checkMac(s: string, port: string): void {
  const b = s.split(":").map((h) => parseInt(h, 16));
  if (b.length !== 6 || b.some((x) => !(x >= 0 && x <= 255))) {
    throw new InvalidField(`ports.${port}.mac`, `"${s}" is not a MAC address`);
  }
}
