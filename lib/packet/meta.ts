// The parse result of one frame: offsets of each header plus the decoded keys the engine
// matches on. One PacketMeta is allocated per datapath and reused for every packet.

/** No L3 header (or a non-IP ethertype such as ARP). */
export const IP_NONE = 0;

/** Not a fragment. */
export const FRAG_NONE = 0;
/** The first fragment of a datagram: carries the L4 header. */
export const FRAG_FIRST = 1;
/** A later fragment: carries no L4 header, so `l4` stays -1. */
export const FRAG_LATER = 2;

/** Where one level's headers (outer, or inner after Geneve) sit in the frame. */
export class HeaderLevel {
  /** Offset of the Ethernet header, -1 when absent. */
  ether = -1;
  /** EtherType after any 802.1Q tag. */
  etherType = 0;
  /** VLAN id when 802.1Q tagged, else -1. */
  vlan = -1;
  /** Offset of the IP (or ARP) header, -1 when absent. */
  l3 = -1;
  /** 4, 6, or IP_NONE. */
  ipVersion = IP_NONE;
  /** Offset just past the IP datagram, from its length field (frames may carry padding). */
  ipEnd = -1;
  /** Upper-layer protocol number after any IPv6 extension headers, -1 when none. */
  proto = -1;
  /** FRAG_NONE, FRAG_FIRST or FRAG_LATER. */
  fragment = FRAG_NONE;
  /** Offset of the TCP/UDP/ICMP header, -1 when absent (including later fragments). */
  l4 = -1;
  /** Offset just past the L4 header (start of its payload), -1 when absent. */
  payload = -1;
  /** TCP/UDP ports; for ICMP echo both are the echo identifier, for other ICMP both are
   * `type << 8 | code` (what `flowOf` uses, so a mirrored flow id matches). */
  srcPort = 0;
  dstPort = 0;
  /** ICMP/ICMPv6 type and code, -1 when not ICMP. */
  icmpType = -1;
  icmpCode = -1;
  /** TCP flags byte (FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80). */
  tcpFlags = 0;

  /** Forgets everything, ready for the next frame. */
  reset(): void {
    this.ether = -1;
    this.etherType = 0;
    this.vlan = -1;
    this.l3 = -1;
    this.ipVersion = IP_NONE;
    this.ipEnd = -1;
    this.proto = -1;
    this.fragment = FRAG_NONE;
    this.l4 = -1;
    this.payload = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.tcpFlags = 0;
  }

  /** Copies another level's fields (used when a transform moves inner to outer). */
  copyFrom(o: HeaderLevel): void {
    this.ether = o.ether;
    this.etherType = o.etherType;
    this.vlan = o.vlan;
    this.l3 = o.l3;
    this.ipVersion = o.ipVersion;
    this.ipEnd = o.ipEnd;
    this.proto = o.proto;
    this.fragment = o.fragment;
    this.l4 = o.l4;
    this.payload = o.payload;
    this.srcPort = o.srcPort;
    this.dstPort = o.dstPort;
    this.icmpType = o.icmpType;
    this.icmpCode = o.icmpCode;
    this.tcpFlags = o.tcpFlags;
  }
}

/** Oxide Geneve option bits seen on a frame (class 0x0129). */
export const OXIDE_OPT_EXTERNAL = 1;
export const OXIDE_OPT_MULTICAST = 2;
export const OXIDE_OPT_MSS = 4;

/** Everything the datapath learns from parsing one frame. */
export class PacketMeta {
  /** Frame start within `buf` and its length. */
  start = 0;
  len = 0;
  readonly outer = new HeaderLevel();
  readonly inner = new HeaderLevel();
  /** True when the outer level carries Geneve and `inner` describes the encapsulated frame. */
  encap = false;
  /** Offset of the Geneve header, -1 when none. */
  geneve = -1;
  /** Geneve VNI, -1 when none. */
  vni = -1;
  /** Geneve option bytes (excluding the 8-byte base header). */
  geneveOptLen = 0;
  /** OXIDE_OPT_* bits present. */
  oxideOpts = 0;
  /** Value of the Oxide MSS option when present, else 0. */
  oxideMss = 0;
  /** Oxide multicast replication mode when present, else -1. */
  oxideReplication = -1;
  /** True when a Geneve option with the critical bit set was not understood (the VPC drops it). */
  geneveUnknownCritical = false;
  /** Geneve O bit: a control (OAM) packet, not data. */
  geneveOam = false;

  /** The level whose headers name the flow: inner when encapsulated, else outer. */
  get flow(): HeaderLevel {
    return this.encap ? this.inner : this.outer;
  }

  /** Forgets everything, ready for the next frame. */
  reset(): void {
    this.start = 0;
    this.len = 0;
    this.outer.reset();
    this.inner.reset();
    this.clearEncap();
  }

  /** Forgets the Geneve encapsulation (after a decap, or on reset). */
  clearEncap(): void {
    this.encap = false;
    this.geneve = -1;
    this.vni = -1;
    this.geneveOptLen = 0;
    this.oxideOpts = 0;
    this.oxideMss = 0;
    this.oxideReplication = -1;
    this.geneveUnknownCritical = false;
    this.geneveOam = false;
  }
}
