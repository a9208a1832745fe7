// The fuzz oracle. Each frame is copied into two buffers that differ only outside the frame
// (guard bytes 0x00 before/after in one, 0xff in the other, at different offsets) and every
// target runs on both: parseFrame (Geneve on and off), the DHCP/DHCPv6/NDP parsers on isolated
// copies of their payload, and the decode JSON path. A failure is: a throw escaping, an offset
// outside the frame, a malformed structure, or any difference between the two copies (which
// means the parser read outside its bounds or is not deterministic).

import { toHex, u16 } from "../../lib/packet/bytes.ts";
import type { ParseError } from "../../lib/packet/error.ts";
import { isParseError } from "../../lib/packet/error.ts";
import { type HeaderLevel, PacketMeta } from "../../lib/packet/meta.ts";
import { flowOf, parseFrame } from "../../lib/packet/parse.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { PROTO_ICMPV6, PROTO_UDP } from "../../lib/packet/checksum.ts";
import { FRAG_FIRST } from "../../lib/packet/meta.ts";
import { checkDhcp, DhcpView } from "../../lib/packet/dhcp.ts";
import { dhcpReprParse } from "../../lib/packet/dhcp_decode.ts";
import { checkDhcpv6, dhcpv6ReprParse, Dhcpv6View, duidMac } from "../../lib/packet/dhcpv6.ts";
import { checkNdp, ndpOptionsRepr, NdpView } from "../../lib/packet/ndp.ts";
import { decodeFrame } from "../../lib/packet/decode.ts";
import { ETHERTYPE_ARP } from "../../lib/packet/ethernet.ts";
import { MAX_FRAME } from "./mutate.ts";

const GUARD = 256;
const OFF_A = 64, OFF_B = 131;
const LEVEL_FIELDS = 15;
const SNAP = 2 * LEVEL_FIELDS + 9;

/** What the checker has exercised so far. */
export class CheckStats {
  frames = 0;
  parsedOk = 0;
  parseErrors = 0;
  encap = 0;
  dhcp = 0;
  dhcpv6 = 0;
  ndp = 0;
  decoded = 0;
}

/** Runs every target on a frame and returns why it failed, or null. Reuses all its buffers. */
export class Checker {
  readonly stats = new CheckStats();
  private readonly a = new Uint8Array(OFF_A + MAX_FRAME + GUARD);
  private readonly b = new Uint8Array(OFF_B + MAX_FRAME + GUARD).fill(0xff);
  private readonly ma = new PacketMeta();
  private readonly mb = new PacketMeta();
  private readonly sa = new Float64Array(SNAP);
  private readonly sb = new Float64Array(SNAP);
  private readonly pa = new Uint8Array(OFF_A + MAX_FRAME + GUARD);
  private readonly pb = new Uint8Array(OFF_B + MAX_FRAME + GUARD).fill(0xff);
  private n = 0;
  private okGeneve = false;
  private readonly fid = new FlowId();

  /**
   * `decodeEvery`: run the (allocating) decode path on one frame in this many. `parse` is the
   * frame parser under test (replaced only by the tests that prove the oracle can fail).
   */
  constructor(readonly decodeEvery = 1, private readonly parseFn: typeof parseFrame = parseFrame) {}

  /** Checks `len` bytes of `src`. */
  check(src: Uint8Array, len: number): string | null {
    this.stats.frames++;
    this.a.set(src.subarray(0, len), OFF_A);
    this.a.fill(0x00, OFF_A + len, OFF_A + len + GUARD);
    this.b.set(src.subarray(0, len), OFF_B);
    this.b.fill(0xff, OFF_B + len, OFF_B + len + GUARD);
    const r = this.parse(len, true) ?? this.parse(len, false);
    if (r !== null) return r;
    if (this.decodeEvery > 0 && this.n++ % this.decodeEvery === 0) return this.decode(len);
    return null;
  }

  private parse(len: number, geneve: boolean): string | null {
    const tag = geneve ? "geneve on" : "geneve off";
    let ea: ParseError | null, eb: ParseError | null;
    try {
      ea = this.parseFn(this.a, OFF_A, len, this.ma, geneve);
      eb = this.parseFn(this.b, OFF_B, len, this.mb, geneve);
    } catch (e) {
      return `parseFrame threw (${tag}): ${e instanceof Error ? e.stack : e}`;
    }
    if (!sameError(ea, eb)) {
      return `parseFrame result depends on bytes outside the frame (${tag}): ${show(ea)} vs ${
        show(eb)
      }`;
    }
    snapshot(this.ma, OFF_A, this.sa);
    snapshot(this.mb, OFF_B, this.sb);
    for (let i = 0; i < SNAP; i++) {
      if (this.sa[i] !== this.sb[i] && !(Number.isNaN(this.sa[i]) && Number.isNaN(this.sb[i]))) {
        return `PacketMeta field #${i} depends on bytes outside the frame (${tag})`;
      }
    }
    const bad = bounds(this.a, this.ma, OFF_A, len, ea);
    if (bad !== null) return `${bad} (${tag})`;
    if (!geneve) return null;
    this.okGeneve = ea === null;
    if (ea !== null) {
      this.stats.parseErrors++;
      return null;
    }
    this.stats.parsedOk++;
    if (this.ma.encap) this.stats.encap++;
    // The flow id the engine keys on must agree with the parsed match keys.
    const fl = this.ma.flow;
    if (fl.ipVersion !== 0) {
      if (!flowOf(this.a, fl, this.fid)) return "flowOf failed on a parsed IP level";
      const f = this.fid;
      if (f.af !== fl.ipVersion || f.proto !== (fl.proto & 0xff)) {
        return `flow id af/proto ${f.af}/${f.proto} vs parsed ${fl.ipVersion}/${fl.proto}`;
      }
      if (fl.l4 >= 0 && (f.srcPort !== fl.srcPort || f.dstPort !== fl.dstPort)) {
        return `flow id ports ${f.srcPort}/${f.dstPort} vs parsed ${fl.srcPort}/${fl.dstPort}`;
      }
    }
    return this.sub(this.ma.outer) ?? (this.ma.encap ? this.sub(this.ma.inner) : null);
  }

  /** Runs the protocol parsers behind a parsed level on isolated copies of their bytes. */
  private sub(l: HeaderLevel): string | null {
    if (l.l4 < 0) return null;
    if (l.proto === PROTO_UDP) {
      const udpEnd = l.fragment === FRAG_FIRST
        ? l.ipEnd
        : Math.min(l.l4 + u16(this.a, l.l4 + 4), l.ipEnd);
      const isDhcp = (p: number) => p === 67 || p === 68;
      const isDhcp6 = (p: number) => p === 546 || p === 547;
      if (isDhcp(l.srcPort) || isDhcp(l.dstPort)) {
        this.stats.dhcp++;
        return this.isolated("dhcp", l.payload, udpEnd, dhcpSummary);
      }
      if (isDhcp6(l.srcPort) || isDhcp6(l.dstPort)) {
        this.stats.dhcpv6++;
        return this.isolated("dhcpv6", l.payload, udpEnd, dhcpv6Summary);
      }
    }
    if (l.proto === PROTO_ICMPV6 && l.icmpType >= 133 && l.icmpType <= 137) {
      this.stats.ndp++;
      return this.isolated("ndp", l.l4, l.ipEnd, ndpSummary);
    }
    return null;
  }

  private isolated(
    what: string,
    from: number,
    to: number,
    f: (b: Uint8Array, off: number, end: number) => string,
  ): string | null {
    const n = to - from;
    if (n < 0) return `${what}: payload end ${to} before its start ${from}`;
    this.pa.set(this.a.subarray(from, to), OFF_A);
    this.pa.fill(0, OFF_A + n, OFF_A + n + GUARD);
    this.pb.set(this.a.subarray(from, to), OFF_B);
    this.pb.fill(0xff, OFF_B + n, OFF_B + n + GUARD);
    let ra: string, rb: string;
    try {
      ra = f(this.pa, OFF_A, OFF_A + n);
      rb = f(this.pb, OFF_B, OFF_B + n);
    } catch (e) {
      return `${what} parser threw: ${e instanceof Error ? e.stack : e}`;
    }
    if (ra !== rb) return `${what} result depends on bytes outside the message: ${ra} vs ${rb}`;
    return null;
  }

  private decode(len: number): string | null {
    this.stats.decoded++;
    let ja: string, jb: string;
    try {
      const da = decodeFrame(this.a.subarray(OFF_A, OFF_A + len), 1);
      const db = decodeFrame(this.b.subarray(OFF_B, OFF_B + len), 1);
      if (da.error?.startsWith("internal error")) return `decode: ${da.error}`;
      if ((da.error === undefined) !== this.okGeneve) {
        return `decode disagrees with parseFrame: ${da.error ?? "ok"}`;
      }
      ja = JSON.stringify(da);
      jb = JSON.stringify(db);
    } catch (e) {
      return `decode threw: ${e instanceof Error ? e.stack : e}`;
    }
    if (ja !== jb) return `decode output is not deterministic: ${ja} vs ${jb}`;
    // NaN serialises as null; decode never prints null, so a null is a read past the end.
    if (ja.includes(":null")) return `decode printed garbage: ${ja}`;
    return null;
  }
}

function sameError(a: ParseError | null, b: ParseError | null): boolean {
  if (a === null || b === null) return a === b;
  return a.kind === b.kind && a.at === b.at && a.offset - OFF_A === b.offset - OFF_B;
}

function show(e: ParseError | null): string {
  return e === null ? "ok" : `${e.kind} ${e.at} @${e.offset}`;
}

function rel(v: number, base: number): number {
  return v < 0 ? v : v - base;
}

function snapLevel(l: HeaderLevel, base: number, s: Float64Array, i: number): void {
  s[i] = rel(l.ether, base);
  s[i + 1] = l.etherType;
  s[i + 2] = l.vlan;
  s[i + 3] = rel(l.l3, base);
  s[i + 4] = l.ipVersion;
  s[i + 5] = rel(l.ipEnd, base);
  s[i + 6] = l.proto;
  s[i + 7] = l.fragment;
  s[i + 8] = rel(l.l4, base);
  s[i + 9] = rel(l.payload, base);
  s[i + 10] = l.srcPort;
  s[i + 11] = l.dstPort;
  s[i + 12] = l.icmpType;
  s[i + 13] = l.icmpCode;
  s[i + 14] = l.tcpFlags;
}

/** Writes every PacketMeta field, offsets made relative to the frame start, into `s`. */
function snapshot(m: PacketMeta, base: number, s: Float64Array): void {
  snapLevel(m.outer, base, s, 0);
  snapLevel(m.inner, base, s, LEVEL_FIELDS);
  let i = 2 * LEVEL_FIELDS;
  s[i++] = m.encap ? 1 : 0;
  s[i++] = rel(m.geneve, base);
  s[i++] = m.vni;
  s[i++] = m.geneveOptLen;
  s[i++] = m.oxideOpts;
  s[i++] = m.oxideMss;
  s[i++] = m.oxideReplication;
  s[i++] = m.geneveUnknownCritical ? 1 : 0;
  s[i++] = m.geneveOam ? 1 : 0;
}

const inFrame = (v: number, start: number, end: number) => v === -1 || (v >= start && v <= end);

function levelBounds(l: HeaderLevel, name: string, start: number, end: number): string | null {
  const offs: [string, number][] = [
    ["ether", l.ether],
    ["l3", l.l3],
    ["ipEnd", l.ipEnd],
    ["l4", l.l4],
    ["payload", l.payload],
  ];
  for (const [f, v] of offs) {
    if (!inFrame(v, start, end)) {
      return `${name}.${f} = ${v - start} outside frame [0, ${end - start}]`;
    }
  }
  return null;
}

/** Structural checks of a successful parse: each header lies after the one before it. */
function levelOrder(l: HeaderLevel, name: string, end: number): string | null {
  if (l.ether < 0) return `${name}: parsed ok without an Ethernet header`;
  if (l.ether + 14 > end) return `${name}: Ethernet header past the end`;
  if (l.l3 < 0) return null;
  if (l.l3 < l.ether + 14) return `${name}: l3 inside the Ethernet header`;
  if (l.etherType === ETHERTYPE_ARP) return l.l3 + 28 <= end ? null : `${name}: ARP past the end`;
  const min = l.ipVersion === 4 ? 20 : 40;
  if (!(l.l3 + min <= l.ipEnd && l.ipEnd <= end)) return `${name}: ipEnd out of order`;
  if (l.l4 < 0) return null;
  if (!(l.l4 >= l.l3 + min && l.l4 + 4 <= l.payload && l.payload <= l.ipEnd)) {
    return `${name}: l4 ${l.l4 - l.l3} / payload ${l.payload - l.l3} out of order`;
  }
  return null;
}

function bounds(
  buf: Uint8Array,
  m: PacketMeta,
  start: number,
  len: number,
  err: ParseError | null,
): string | null {
  const end = start + len;
  const b = levelBounds(m.outer, "outer", start, end) ?? levelBounds(m.inner, "inner", start, end);
  if (b !== null) return b;
  if (!inFrame(m.geneve, start, end)) return `geneve offset outside frame`;
  if (m.geneve >= 0 && m.geneve + 8 + m.geneveOptLen > end) return `geneve options past the end`;
  if (err !== null) {
    if (err.offset < start || err.offset > end) {
      return `error offset ${err.offset - start} outside frame (${err.kind} ${err.at})`;
    }
    return null;
  }
  const o = levelOrder(m.outer, "outer", end);
  if (o !== null || !m.encap) return o;
  if (m.inner.ether !== m.geneve + 8 + m.geneveOptLen) return "inner Ethernet not after Geneve";
  const udpEnd = m.outer.l4 + u16(buf, m.outer.l4 + 4);
  return levelOrder(m.inner, "inner", Math.min(udpEnd, m.outer.ipEnd));
}

function hexify(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? toHex(v) : v;
}

function dhcpSummary(b: Uint8Array, off: number, end: number): string {
  const e = checkDhcp(b, off, end);
  if (e !== null) return `${e.kind} ${e.at} ${e.offset - off}`;
  const v = new DhcpView(b, off, end);
  const r = dhcpReprParse(v);
  if (isParseError(r)) return `${r.kind} ${r.at} ${r.offset - off} type ${v.messageType}`;
  return JSON.stringify(r, hexify) + v.messageType;
}

function dhcpv6Summary(b: Uint8Array, off: number, end: number): string {
  const e = checkDhcpv6(b, off, end);
  if (e !== null) return `${e.kind} ${e.at} ${e.offset - off}`;
  const r = dhcpv6ReprParse(new Dhcpv6View(b, off, end));
  if (isParseError(r)) return `${r.kind} ${r.at} ${r.offset - off}`;
  const mac = r.clientId ? duidMac(r.clientId) : null;
  return JSON.stringify(r, hexify) + (mac ? toHex(mac) : "");
}

function ndpSummary(b: Uint8Array, off: number, end: number): string {
  const e = checkNdp(b, off, end);
  if (e !== null) return `${e.kind} ${e.at} ${e.offset - off}`;
  const v = new NdpView(b, off, end);
  let s = JSON.stringify(ndpOptionsRepr(v), hexify);
  if (v.type >= 135) s += toHex(v.target);
  if (v.type === 137) s += toHex(v.redirectDst);
  return s;
}
