// Traces of the live switch: a frame follows the switch's own decisions — pass-through, local
// delivery, a port's pipeline (Port.dryRun: live tables, nothing changed), Geneve loopback to a
// local port, ECMP out an underlay link — and the answer says where and how it would leave.

import { IPV6_DST, IPV6_HOP_LIMIT, IPV6_SRC } from "../packet/ipv6.ts";
import { IPV4_DST, IPV4_SRC } from "../packet/ipv4.ts";
import { ETH_DST } from "../packet/ethernet.ts";
import { bytesEqual } from "../packet/bytes.ts";
import type { DryRun } from "../engine/port.ts";
import { DIR_IN, DIR_OUT, Packet, RES_DROP, RES_ERROR, RES_HAIRPIN } from "../engine/packet.ts";
import { HEADROOM } from "../link/link.ts";
import { ipv6ToString, macToString, toHex } from "../packet/bytes.ts";
import { FlowId } from "../packet/flow.ts";
import { PacketMeta } from "../packet/meta.ts";
import { parseFrame } from "../packet/parse.ts";
import { ETHERTYPE_IPV6 } from "../packet/ethernet.ts";
import { ICMPV6_ECHO_REQUEST, isNdp } from "../packet/icmpv6.ts";
import { PROTO_ICMPV6 } from "../packet/checksum.ts";
import type { SwitchPort } from "./port.ts";
import { ecmpHash, inPrefix } from "./routes.ts";
import type { Switch } from "./switch.ts";
import { InvalidField } from "../contract/field_error.ts";

/** One decision of a traced frame: a pipeline layer's, or the switch's own (layer "switch"). */
export interface TraceLayer {
  /** The port whose pipeline decided (absent for the switch's own steps). */
  port?: string;
  dir?: "in" | "out";
  layer: string;
  decision: string;
  /** The rule as list-fw-rules and dump-layer show it (API id for firewall rules). */
  rule?: string;
  transform?: string;
}

/** Where a traced frame leaves the switch. */
export interface Egress {
  kind: "underlay" | "port" | "hairpin";
  /** Underlay link or port name. */
  via: string;
  nextHop?: string;
  srcMac: string;
  dstMac: string;
  /** The frame as it leaves (hex). */
  frame: string;
}

/** What a trace returns. */
export interface TraceAnswer {
  verdict: "forward" | "deliver" | "drop" | "hairpin" | "error";
  layers: TraceLayer[];
  /** The frame after the traced port's pipeline (hex), null when it did not pass. */
  frame: string | null;
  reason?: string;
  hairpin?: string;
  egress?: Egress;
}

/** A traced frame's copy with room for encapsulation. */
function packetOf(frame: Uint8Array): Packet {
  const buf = new Uint8Array(HEADROOM + frame.length + 256);
  buf.set(frame, HEADROOM);
  return new Packet(buf, HEADROOM, frame.length, new PacketMeta());
}

/** Traces `frame` on the live switch as if `port`'s client sent it (out) or it came in for it. */
export function traceSwitch(
  sw: Switch,
  name: string,
  dir: "in" | "out",
  frame: Uint8Array,
): TraceAnswer {
  const port = sw.port(name);
  if (!port) throw new InvalidField("port", `no port ${name}`);
  return new Tracer(sw).run(port, dir, frame);
}

class Tracer {
  readonly layers: TraceLayer[] = [];
  frame: string | null = null;

  constructor(readonly sw: Switch) {}

  note(decision: string): void {
    this.layers.push({ layer: "switch", decision });
  }

  drop(reason: string): TraceAnswer {
    this.note(`drop: ${reason}`);
    return { verdict: "drop", reason, layers: this.layers, frame: this.frame };
  }

  run(port: SwitchPort, dir: "in" | "out", frame: Uint8Array): TraceAnswer {
    const pkt = packetOf(frame);
    const err = parseFrame(pkt.buf, pkt.off, pkt.len, pkt.meta, dir === "in");
    if (err !== null) return this.drop(`parse: ${err.kind} ${err.at} at ${err.offset}`);
    return dir === "out" ? this.fromPort(port, pkt) : this.fromUnderlay(port, pkt);
  }

  /** The switch's fromPort: pass-through, NDP, the gateway's echo, or the port's pipeline. */
  fromPort(port: SwitchPort, pkt: Packet): TraceAnswer {
    const sw = this.sw, b = pkt.buf, off = pkt.off, lv = pkt.meta.outer;
    const mcast = (b[off + ETH_DST] & 1) !== 0;
    if (!mcast && !bytesEqual(b, off + ETH_DST, sw.gatewayMac, 0, 6)) {
      return this.drop(`l2-dst: not addressed to the gateway ${macToString(sw.gatewayMac)}`);
    }
    if (lv.etherType !== ETHERTYPE_IPV6 || port.kind === "instance") {
      return this.pipelineOut(port, pkt);
    }
    const l3 = lv.l3;
    if (lv.proto === PROTO_ICMPV6 && isNdp(lv.icmpType)) {
      this.note("NDP: answered by the switch (router and proxy for local underlay addresses)");
      return { verdict: "hairpin", layers: this.layers, frame: null };
    }
    if (mcast) {
      this.note("multicast: replicated by M2P subscriptions and forwarding");
      return { verdict: "forward", layers: this.layers, frame: toHex(pkt.bytes()) };
    }
    const srcOwned = port.owns(b, l3 + IPV6_SRC);
    if (!srcOwned || !inPrefix(b, l3 + IPV6_DST, sw.underlayPrefix, sw.underlayPrefixLen)) {
      if (b[l3 + IPV6_DST] === 0xfe && (b[l3 + IPV6_DST + 1] & 0xc0) === 0x80) {
        if (lv.proto === PROTO_ICMPV6 && lv.icmpType === ICMPV6_ECHO_REQUEST) {
          this.note("echo to the gateway's link-local address: answered by the switch");
          return { verdict: "hairpin", layers: this.layers, frame: null };
        }
        return this.drop("link-local-dst");
      }
      if (port.pipeline !== null) {
        this.note("not underlay to underlay: the overlay identity's pipeline");
        return this.pipelineOut(port, pkt);
      }
      return this.drop(srcOwned ? "no-overlay" : "spoofed-source");
    }
    this.note("pass-through: underlay source and destination");
    if (b[l3 + IPV6_HOP_LIMIT] <= 1) return this.drop("hop-limit");
    b[l3 + IPV6_HOP_LIMIT]--;
    this.frame = toHex(pkt.bytes());
    const dst = sw.byAddr.get(b, l3 + IPV6_DST, 0);
    if (dst !== undefined) {
      if (dst === port) return this.drop("port-loop");
      return this.deliver(dst, pkt, "local delivery");
    }
    return this.underlay(pkt, false);
  }

  /** A port's outbound pipeline, then Geneve loopback or the underlay. */
  pipelineOut(port: SwitchPort, pkt: Packet): TraceAnswer {
    if (port.pipeline === null) return this.drop("no-overlay");
    const done = this.pipeline(port, DIR_OUT, pkt);
    if (done) return done;
    const m = pkt.meta, o = m.outer;
    if (!m.encap || o.ipVersion !== 6) return this.drop("vpc-not-encap");
    if (
      ipv6ToString(pkt.buf.subarray(o.l3 + IPV6_DST, o.l3 + IPV6_DST + 16)) ===
        ipv6ToString(this.sw.ov.sledAddress)
    ) {
      this.note("Geneve to this sled: looped back to the inbound side");
      if (parseFrame(pkt.buf, pkt.off, pkt.len, m) !== null) return this.drop("parse");
      return this.overlayIn(pkt, null);
    }
    return this.underlay(pkt, true);
  }

  /** Runs `port`'s pipeline dry; returns the answer when the frame stops there. */
  pipeline(port: SwitchPort, dir: 0 | 1, pkt: Packet): TraceAnswer | null {
    const p = port.pipeline!;
    if (!p.dryRun) return this.drop(`${port.name}'s pipeline cannot be traced`);
    const r: DryRun = p.dryRun(dir, pkt);
    const d = dir === DIR_OUT ? "out" : "in";
    for (const s of r.steps) {
      const step: TraceLayer = {
        port: port.name,
        dir: d,
        layer: s.layer || "port",
        decision: `${s.via}: ${s.action}`,
      };
      if (s.rule >= 0) step.rule = String(s.ref ?? s.rule);
      if (s.transform) step.transform = s.transform;
      this.layers.push(step);
    }
    if (r.code === RES_HAIRPIN) {
      const ans: TraceAnswer = { verdict: "hairpin", layers: this.layers, frame: null };
      if (r.hairpin) {
        ans.hairpin = toHex(r.hairpin);
        ans.egress = {
          kind: "hairpin",
          via: port.name,
          srcMac: macToString(r.hairpin.subarray(6, 12)),
          dstMac: macToString(r.hairpin.subarray(0, 6)),
          frame: ans.hairpin,
        };
      }
      return ans;
    }
    if (r.code === RES_DROP || r.code === RES_ERROR) {
      const verdict = r.code === RES_DROP ? "drop" : "error";
      return { verdict, reason: r.reason, layers: this.layers, frame: null };
    }
    this.frame ??= toHex(pkt.bytes());
    return null;
  }

  /** Geneve for this sled: the port owning (VNI, inner MAC), its inbound pipeline, delivery. */
  overlayIn(pkt: Packet, want: SwitchPort | null): TraceAnswer {
    const m = pkt.meta;
    if (!m.encap || m.inner.ether < 0) return this.drop("parse: not Geneve with an inner frame");
    const dst = this.sw.byMac.get(pkt.buf, m.inner.ether, m.vni);
    if (dst === undefined || dst.pipeline === null) {
      return this.drop(`no-overlay-port: no port has VNI ${m.vni} and that inner MAC`);
    }
    if (want !== null && dst !== want) this.note(`(VNI, inner MAC) belongs to ${dst.name}`);
    const done = this.pipeline(dst, DIR_IN, pkt);
    if (done) return done;
    return this.deliver(dst, pkt, `overlay in to ${dst.name}`, false);
  }

  /** Inbound from an underlay link: Geneve for a local pipeline, or IPv6 to a local address. */
  fromUnderlay(port: SwitchPort, pkt: Packet): TraceAnswer {
    const b = pkt.buf, lv = pkt.meta.outer;
    if (lv.etherType !== ETHERTYPE_IPV6) return this.drop("non-ip: the underlay carries IPv6 only");
    if (pkt.meta.encap) return this.overlayIn(pkt, port);
    const dst = this.sw.byAddr.get(b, lv.l3 + IPV6_DST, 0);
    if (dst === undefined) return this.drop("no-local-port for that underlay address");
    if (dst !== port) this.note(`the underlay address belongs to ${dst.name}`);
    if (b[lv.l3 + IPV6_HOP_LIMIT] <= 1) return this.drop("hop-limit");
    b[lv.l3 + IPV6_HOP_LIMIT]--;
    this.frame = toHex(pkt.bytes());
    return this.deliver(dst, pkt, "from the underlay to a local address");
  }

  /** Delivery to a local port: the frame gets the port's MAC and the gateway's as source. */
  deliver(dst: SwitchPort, pkt: Packet, why: string, rewrite = true): TraceAnswer {
    if (!dst.link.isUp() || dst.paused) {
      return this.drop(`port-down: ${dst.name} is down or paused`);
    }
    const b = pkt.buf, e = pkt.meta.outer.ether;
    if (rewrite) {
      b.set(dst.mac, e);
      b.set(this.sw.gatewayMac, e + 6);
    }
    this.note(`${why}: delivered to port ${dst.name}`);
    return {
      verdict: "deliver",
      layers: this.layers,
      frame: this.frame,
      egress: {
        kind: "port",
        via: dst.name,
        srcMac: macToString(b.subarray(e + 6, e + 12)),
        dstMac: macToString(b.subarray(e, e + 6)),
        frame: toHex(pkt.bytes()),
      },
    };
  }

  /** Route lookup and the ECMP pick, hashing what the switch hashes (the inner flow for Geneve). */
  underlay(pkt: Packet, encap: boolean): TraceAnswer {
    const sw = this.sw, b = pkt.buf, o = pkt.meta.outer;
    const route = sw.routes.lookup(b, o.l3 + IPV6_DST);
    if (route === null) return this.drop("no-route to that underlay address");
    const flow = new FlowId();
    const f = encap ? pkt.meta.inner : o;
    if (f.ipVersion === 6) {
      flow.setV6(f.proto & 0xff, b, f.l3 + IPV6_SRC, f.l3 + IPV6_DST, f.srcPort, f.dstPort);
    } else flow.setV4(f.proto & 0xff, b, f.l3 + IPV4_SRC, f.l3 + IPV4_DST, f.srcPort, f.dstPort);
    const hop = route.pick(ecmpHash(flow.w));
    if (hop === null) return this.drop("no-next-hop: no live next hop for that route");
    const link = hop.ul.link;
    if (o.ipEnd - o.l3 > link.mtu) return this.drop(`too-big for ${link.name} (MTU ${link.mtu})`);
    const dstMac = hop.neighbor.hasMac ? macToString(hop.neighbor.mac) : "(unresolved: NDP first)";
    if (hop.neighbor.hasMac) b.set(hop.neighbor.mac, o.ether);
    b.set(link.mac, o.ether + 6);
    const nextHop = ipv6ToString(hop.neighbor.addr);
    this.note(`out underlay link ${link.name} via ${nextHop} (ECMP over ${route.hops.length})`);
    return {
      verdict: "forward",
      layers: this.layers,
      frame: this.frame,
      egress: {
        kind: "underlay",
        via: link.name,
        nextHop,
        srcMac: macToString(link.mac),
        dstMac,
        frame: toHex(pkt.bytes()),
      },
    };
  }
}
