// Overlay multicast (M2P): an overlay group (IPv4 224/4 or IPv6 ff00::/8) maps to an underlay
// group in ff04::/16. A port's frame to a group is copied to every other local subscriber and,
// once per forwarding next hop, sent out the underlay as Geneve (fleet VNI 77, Oxide multicast
// option with the next hop's replication mode) to the underlay group. Geneve received for an
// underlay group is delivered to local subscribers only: this sled is a leaf.

import { IPV6_DST, IPV6_SRC } from "../packet/ipv6.ts";
import { IPV4_DST, IPV4_SRC } from "../packet/ipv4.ts";
import { DIR_IN, DIR_OUT } from "../engine/packet.ts";
import type { FrameBatch } from "../link/link.ts";
import { HEADROOM } from "../link/link.ts";
import type { PacketMeta } from "../packet/meta.ts";
import { setU16, setU32 } from "../packet/bytes.ts";
import { emitGeneve, oxideMulticastOption } from "../packet/geneve.ts";
import type { FlowId } from "../packet/flow.ts";
import { DROP, EV, type SwitchCounters } from "./counters.ts";
import { copyBytes } from "../packet/bytes.ts";
import { ipv6MulticastMacInto } from "../packet/addr.ts";
import { KeyTable } from "./keytable.ts";
import type { SwitchPort } from "./port.ts";
import { ecmpHash, type RouteTable } from "./routes.ts";
import { InvalidField } from "../contract/field_error.ts";

/** The fleet-wide VNI of overlay multicast. */
export const FLEET_VNI = 77;
/** Replication modes of the Oxide multicast option. */
export const REPLICATION = { external: 0, underlay: 1, both: 2 } as const;
/** Name of a replication mode. */
export type Replication = keyof typeof REPLICATION;

/** Outer Ethernet + IPv6 + UDP + Geneve (8) + the multicast option (8). */
const OUTER_LEN = 14 + 40 + 8 + 16;

/** One overlay group on this sled. */
export class McastGroup {
  readonly members: SwitchPort[] = [];
  constructor(readonly overlay: Uint8Array, readonly af: 4 | 6, readonly underlay: Uint8Array) {}
}

/** One forwarding next hop of an underlay group, with its prebuilt outer headers. */
export interface McastHop {
  /** Unicast underlay address the copy is sent towards (a switch or another sled). */
  readonly via: Uint8Array;
  readonly replication: Replication;
  /** Outer headers; MACs, lengths, flow label and UDP source port are patched per copy. */
  readonly outer: Uint8Array;
}

/** Overlay multicast state and forwarding. */
export class Multicast {
  private readonly byOverlay = new KeyTable<McastGroup>(16);
  private readonly byUnderlay = new KeyTable<McastGroup>(16);
  private readonly hops = new KeyTable<McastHop[]>(16);
  private readonly key = new Uint8Array(16);

  constructor(
    private readonly counters: SwitchCounters,
    private readonly routes: RouteTable,
    private readonly flow: FlowId,
    private readonly sledAddress: Uint8Array,
    private readonly gatewayMac: Uint8Array,
  ) {}

  /** Maps an overlay group to an underlay group (replacing any previous mapping). */
  setM2p(overlay: Uint8Array, underlay: Uint8Array): McastGroup {
    const af = overlay.length === 4 ? 4 : 6;
    const k = this.keyOf(overlay);
    const old = this.byOverlay.get(k, 0, af);
    const g = new McastGroup(k.slice(), af, underlay.slice());
    if (old) {
      g.members.push(...old.members);
      this.byUnderlay.delete(old.underlay, 0);
    }
    this.byOverlay.set(g.overlay, af, g);
    this.byUnderlay.set(g.underlay, 0, g);
    return g;
  }

  /** Removes an overlay group and its subscriptions; false when unknown. */
  clearM2p(overlay: Uint8Array): boolean {
    const af = overlay.length === 4 ? 4 : 6;
    const g = this.byOverlay.get(this.keyOf(overlay), 0, af);
    if (!g) return false;
    this.byOverlay.delete(g.overlay, af);
    this.byUnderlay.delete(g.underlay, 0);
    return true;
  }

  /** Subscribes `port` to an overlay group; throws when the group has no M2P mapping. */
  subscribe(port: SwitchPort, overlay: Uint8Array, where: string): void {
    const g = this.byOverlay.get(this.keyOf(overlay), 0, overlay.length === 4 ? 4 : 6);
    if (!g) throw new InvalidField(where, "no M2P mapping for this group");
    if (!g.members.includes(port)) g.members.push(port);
  }

  /** Unsubscribes `port`; false when it was not a member. */
  unsubscribe(port: SwitchPort, overlay: Uint8Array): boolean {
    const g = this.byOverlay.get(this.keyOf(overlay), 0, overlay.length === 4 ? 4 : 6);
    const i = g ? g.members.indexOf(port) : -1;
    if (i < 0) return false;
    g!.members.splice(i, 1);
    return true;
  }

  /** Drops every subscription of a removed port. */
  removePort(port: SwitchPort): void {
    for (const g of this.byOverlay.values()) {
      const i = g.members.indexOf(port);
      if (i >= 0) g.members.splice(i, 1);
    }
  }

  /** Sets the forwarding next hops of an underlay group (empty: local delivery only). */
  setForwarding(underlay: Uint8Array, hops: { via: Uint8Array; replication: Replication }[]): void {
    if (hops.length === 0) {
      this.hops.delete(underlay, 0);
      return;
    }
    this.hops.set(
      underlay,
      0,
      hops.map((h) => ({
        via: h.via.slice(),
        replication: h.replication,
        outer: this.outer(underlay, h.replication),
      })),
    );
  }

  /** Groups with members and next hops, for the admin API and tests. */
  describe(): { overlay: Uint8Array; underlay: Uint8Array; members: string[]; hops: number }[] {
    return [...this.byOverlay.values()].map((g) => ({
      overlay: g.af === 4 ? g.overlay.slice(0, 4) : g.overlay,
      underlay: g.underlay,
      members: g.members.map((p) => p.name),
      hops: this.hops.get(g.underlay, 0)?.length ?? 0,
    }));
  }

  private keyOf(ip: Uint8Array): Uint8Array {
    this.key.fill(0);
    this.key.set(ip.subarray(0, 16));
    return this.key;
  }

  private outer(underlay: Uint8Array, replication: Replication): Uint8Array {
    const t = new Uint8Array(OUTER_LEN);
    ipv6MulticastMacInto(underlay, t);
    t[12] = 0x86;
    t[13] = 0xdd;
    setU32(t, 14, 0x60000000);
    t[20] = 17;
    t[21] = 255;
    t.set(this.sledAddress, 22);
    t.set(underlay, 38);
    setU16(t, 56, 6081);
    emitGeneve(
      { vni: FLEET_VNI, options: [oxideMulticastOption(REPLICATION[replication])] },
      t,
      62,
    );
    return t;
  }

  /** The group a frame from a port is sent to (flow level of `meta`), or undefined. */
  private groupOf(b: Uint8Array, meta: PacketMeta): McastGroup | undefined {
    const lv = meta.outer;
    if (lv.ipVersion === 6) {
      if (b[lv.l3 + IPV6_DST] !== 0xff) return undefined;
      return this.byOverlay.get(b, lv.l3 + IPV6_DST, 6);
    }
    if (lv.ipVersion !== 4 || (b[lv.l3 + IPV4_DST] & 0xf0) !== 0xe0) return undefined;
    const k = this.key;
    k.fill(0);
    copyBytes(b, lv.l3 + IPV4_DST, k, 0, 4);
    return this.byOverlay.get(k, 0, 4);
  }

  /**
   * A port's frame to a multicast destination: local copies plus one Geneve copy per next hop.
   * False when the destination is no mapped group (the caller counts the drop).
   */
  out(port: SwitchPort, rx: FrameBatch, i: number, meta: PacketMeta): boolean {
    const b = rx.bufs[i], off = rx.offs[i], len = rx.lens[i];
    const g = this.groupOf(b, meta);
    if (g === undefined) return false;
    // An instance's multicast gets its VPC's checks first (anti-spoof, no TCP, firewall).
    const vpc = port.kind === "instance" ? port.pipeline : null;
    if (vpc?.multicast && vpc.multicast(DIR_OUT, b, off, len) !== null) {
      this.counters.drops[DROP.vpc]++;
      return true;
    }
    this.deliver(g, port, b, off, len);
    const hops = this.hops.get(g.underlay, 0);
    if (hops === undefined) return true;
    const lv = meta.outer;
    if (lv.ipVersion === 6) {
      this.flow.setV6(
        lv.proto & 0xff,
        b,
        lv.l3 + IPV6_SRC,
        lv.l3 + IPV6_DST,
        lv.srcPort,
        lv.dstPort,
      );
    } else {
      this.flow.setV4(
        lv.proto & 0xff,
        b,
        lv.l3 + IPV4_SRC,
        lv.l3 + IPV4_DST,
        lv.srcPort,
        lv.dstPort,
      );
    }
    const hash = this.flow.hash();
    for (let k = 0; k < hops.length; k++) this.sendCopy(hops[k], hash, b, off, len);
    return true;
  }

  private sendCopy(h: McastHop, hash: number, b: Uint8Array, off: number, len: number): void {
    const c = this.counters;
    const route = this.routes.lookup(h.via, 0);
    const hop = route === null ? null : route.pick(ecmpHash(this.flow.w));
    if (hop === null) return void c.drops[DROP["no-next-hop"]]++;
    const link = hop.ul.link;
    if (len + OUTER_LEN - 14 > link.mtu) return void c.drops[DROP["too-big"]]++;
    const out = hop.ul.tx.reserve();
    const o = HEADROOM;
    out.set(h.outer, o);
    // The destination MAC is the underlay group's (33:33 + its last 4 bytes, prebuilt).
    copyBytes(link.mac, 0, out, o + 6, 6);
    setU32(out, o + 14, (0x60000000 | (hash & 0xfffff)) >>> 0);
    setU16(out, o + 18, len + OUTER_LEN - 54);
    setU16(out, o + 54, 0xc000 | ((hash ^ (hash >>> 16)) & 0x3fff));
    setU16(out, o + 58, len + OUTER_LEN - 54);
    copyBytes(b, off, out, o + OUTER_LEN, len);
    hop.ul.tx.commit(OUTER_LEN + len);
    c.events[EV["mcast-forwarded"]]++;
  }

  /** Copies a frame to every member but `except`, from the gateway MAC. */
  private deliver(
    g: McastGroup,
    except: SwitchPort | null,
    b: Uint8Array,
    off: number,
    len: number,
  ) {
    const ms = g.members;
    for (let k = 0; k < ms.length; k++) {
      const p = ms[k];
      if (p === except) continue;
      if (!p.link.isUp() || p.paused) {
        this.counters.drops[DROP["port-down"]]++;
        continue;
      }
      const vpc = p.kind === "instance" ? p.pipeline : null;
      if (vpc?.multicast && vpc.multicast(DIR_IN, b, off, len) !== null) {
        this.counters.drops[DROP.vpc]++;
        continue;
      }
      const out = p.tx.reserve();
      if (HEADROOM + len > out.length) continue;
      copyBytes(b, off, out, HEADROOM, len);
      copyBytes(this.gatewayMac, 0, out, HEADROOM + 6, 6);
      p.tx.commit(len);
      this.counters.events[EV["mcast-delivered"]]++;
    }
  }

  /**
   * Geneve from the underlay whose outer destination (at `b[dstOff]`) is a multicast group:
   * the inner frame goes to local subscribers only. False when the group is unknown here.
   */
  inbound(rx: FrameBatch, i: number, meta: PacketMeta): boolean {
    const b = rx.bufs[i];
    const g = this.byUnderlay.get(b, meta.outer.l3 + IPV6_DST, 0);
    if (g === undefined || !meta.encap || meta.vni !== FLEET_VNI || meta.inner.ether < 0) {
      return false;
    }
    // As for unicast: a critical option we do not understand means we must not deliver.
    if (meta.geneveUnknownCritical) {
      this.counters.drops[DROP["geneve-critical"]]++;
      return true;
    }
    const inner = meta.inner.ether;
    this.deliver(g, null, b, inner, meta.outer.ipEnd - inner);
    return true;
  }
}
