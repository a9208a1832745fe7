// `xdeno trace`: why a frame goes where it goes. The frame comes from a flow spec in the style of
// ovs-appctl ofproto/trace (`tcp 10.0.0.5:44490 > 10.0.0.6:80 flags=S`), a pcap record or hex;
// the CLI fills in the port's and gateway's MACs and, for inbound overlay traces, the Geneve
// wrapping from the port's VNI and the V2P mappings.

import { buildFrame, type LayerSpec } from "../../packet/build.ts";
import { fromHex, toHex } from "../../packet/bytes.ts";
import { readPcap } from "../../packet/pcap.ts";
import { ApiError } from "../client.ts";
import type { AdminClient } from "../client.ts";
import { type Row, tableOf, type Verb } from "./common.ts";

/** The switch's default gateway MAC (OPTE's), used when the port's overlay names none. */
const DEFAULT_GATEWAY_MAC = "a8:40:25:ff:77:77";

/** A parsed flow spec: protocol, endpoints, TCP flags. */
export interface FlowSpec {
  proto: "tcp" | "udp" | "icmp";
  src: string;
  sport: number;
  dst: string;
  dport: number;
  flags: string;
}

/** `IPv4[:PORT]`, `[IPv6]:PORT` or a bare IPv6 address; null when it is none of them. */
function endpoint(e: string): { ip: string; port: number } | null {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(e) ??
    /^([0-9a-fA-F]*:[0-9a-fA-F:.]*)()$/.exec(e) ??
    /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(e);
  if (!m || Number(m[2] || 0) > 65535) return null;
  return { ip: m[1], port: Number(m[2] || 0) };
}

/** Parses `PROTO SRC[:PORT] > DST[:PORT] [flags=S]`; throws a usage error naming the bad word. */
export function parseFlowSpec(words: string[]): FlowSpec {
  const [proto, src, arrow, dst, ...rest] = words;
  if (proto !== "tcp" && proto !== "udp" && proto !== "icmp") {
    throw new ApiError(2, `flow: ${JSON.stringify(proto ?? "")} is not tcp, udp or icmp`);
  }
  if (arrow !== ">") throw new ApiError(2, "flow: expected PROTO SRC:PORT '>' DST:PORT");
  const ends = [src, dst].map((e, i) => {
    const x = endpoint(e ?? "");
    if (!x) {
      const what = i ? "DST" : "SRC";
      throw new ApiError(
        2,
        `flow: ${JSON.stringify(e ?? "")} is not ${what} (IP:PORT, [IPv6]:PORT)`,
      );
    }
    return x;
  });
  let flags = proto === "tcp" ? "S" : "";
  for (const w of rest) {
    const m = /^flags=([SAFRPUEC]+)$/i.exec(w);
    if (!m || proto !== "tcp") {
      throw new ApiError(2, `flow: ${JSON.stringify(w)} is not flags=LETTERS (tcp only)`);
    }
    flags = m[1].toUpperCase();
  }
  return {
    proto,
    src: ends[0].ip,
    sport: ends[0].port,
    dst: ends[1].ip,
    dport: ends[1].port,
    flags,
  };
}

/** The IP and L4 layers of a flow spec. */
function innerLayers(f: FlowSpec): LayerSpec[] {
  const v6 = f.src.includes(":");
  const ip: LayerSpec = v6
    ? { type: "ipv6", src: f.src, dst: f.dst, hopLimit: 64 }
    : { type: "ipv4", src: f.src, dst: f.dst, ttl: 64 };
  const l4: LayerSpec = f.proto === "tcp"
    ? { type: "tcp", srcPort: f.sport, dstPort: f.dport, flags: f.flags }
    : f.proto === "udp"
    ? { type: "udp", srcPort: f.sport, dstPort: f.dport }
    : v6
    ? { type: "icmpv6", kind: "echoRequest", id: f.sport, seq: 1 }
    : { type: "icmpv4", kind: "echoRequest", id: f.sport, seq: 1 };
  return [ip, l4, { type: "payload", data: "xdeno trace" }];
}

/** Builds the frame a flow spec describes for `port` travelling `dir`. */
async function frameOf(c: AdminClient, port: string, dir: string, f: FlowSpec): Promise<string> {
  const ports = (await c.call("GET", "/v1/ports")) as Row[];
  const p = ports.find((x) => x.name === port);
  if (!p) throw new ApiError(1, `port: no port ${port}`);
  const ov = p.overlay as Row | undefined;
  const gw = (ov?.gatewayMac as string | undefined) ?? DEFAULT_GATEWAY_MAC;
  const inner = innerLayers(f);
  if (dir === "out") {
    return toHex(buildFrame([{ type: "ethernet", src: p.mac as string, dst: gw }, ...inner]));
  }
  if (!ov || p.kind === "host") {
    return toHex(buildFrame([{ type: "ethernet", src: gw, dst: p.mac as string }, ...inner]));
  }
  // Inbound overlay: Geneve from the source's sled (V2P) to this sled (the V2P of the port's IP).
  const v2p = (await c.call("GET", "/v1/v2p")) as Row[];
  const vni = ov.vni as number;
  const find = (ip: string) => v2p.find((m) => m.vni === vni && m.ip === ip);
  const mine = [ov.ipv4, ov.ipv6].map((a) => String(a ?? "").split("/")[0]);
  const here = mine.map(find).find((m) => m);
  if (!here) {
    throw new ApiError(2, `no V2P mapping for ${port}'s own address: cannot address Geneve`);
  }
  const there = find(f.src);
  return toHex(buildFrame([
    { type: "ethernet", src: "a8:40:25:ee:00:00", dst: "a8:40:25:ee:00:01" },
    {
      type: "ipv6",
      src: (there?.underlay as string | undefined) ?? "fd00:ffff::1",
      dst: here.underlay as string,
      hopLimit: 64,
    },
    { type: "udp", srcPort: 49152 },
    { type: "geneve", vni },
    { type: "ethernet", src: (there?.mac as string | undefined) ?? gw, dst: p.mac as string },
    ...inner,
  ]));
}

/** The trace's text: each decision, the verdict, and where the frame leaves. */
function traceText(r: Row): string {
  const layers = r.layers as Row[];
  const t = tableOf(["PORT", "DIR", "LAYER", "RULE", "DECISION", "TRANSFORM"], layers, [
    (l) => l.port,
    (l) => l.dir,
    (l) => l.layer,
    (l) => l.rule,
    (l) => l.decision,
    (l) => l.transform,
  ])();
  const lines = [t, "", `verdict: ${r.verdict}${r.reason ? ` (${r.reason})` : ""}`];
  const e = r.egress as Row | undefined;
  if (e) {
    lines.push(
      `leaves:  ${e.kind} ${e.via}${e.nextHop ? ` next hop ${e.nextHop}` : ""}`,
      `         src MAC ${e.srcMac}, dst MAC ${e.dstMac}`,
    );
  }
  return lines.join("\n");
}

/** The trace verb. */
export const TRACE_VERBS: Record<string, Verb> = {
  trace: {
    summary: "trace a frame through the live switch and pipelines (changes nothing)",
    usage: "trace PORT in|out PROTO SRC[:PORT] '>' DST[:PORT] [flags=S]\n" +
      "       trace PORT in|out --pcap FILE [--frame N]  |  trace PORT in|out --hex HEX",
    options: ["pcap", "frame", "hex"],
    port: true,
    args: 2,
    maxArgs: 7,
    async run(c, [port, dir, ...flow], o) {
      if (dir !== "in" && dir !== "out") {
        throw new ApiError(2, `direction: ${JSON.stringify(dir)} is not in or out`);
      }
      const sources = [flow.length > 0, o.pcap !== undefined, o.hex !== undefined];
      if (sources.filter((x) => x).length !== 1) {
        throw new ApiError(2, "give exactly one of a flow spec, --pcap FILE or --hex HEX");
      }
      let packet: string;
      if (typeof o.hex === "string") {
        if (fromHex(o.hex.replace(/[\s:]/g, "")) === null) {
          throw new ApiError(2, "--hex: not hex (two digits per byte)");
        }
        packet = o.hex;
      } else if (typeof o.pcap === "string") {
        const recs = readPcap(await Deno.readFile(o.pcap));
        if (!Array.isArray(recs)) throw new ApiError(2, `--pcap: ${o.pcap} is not a pcap file`);
        const n = o.frame === undefined ? 1 : Number(o.frame);
        if (!Number.isInteger(n) || n < 1 || n > recs.length) {
          throw new ApiError(
            2,
            `--frame: ${o.frame} is not 1..${recs.length} (frames of ${o.pcap})`,
          );
        }
        packet = toHex(recs[n - 1].data);
      } else packet = await frameOf(c, port, dir, parseFlowSpec(flow));
      const r = (await c.call("POST", "/v1/trace", { port, direction: dir, packet })) as Row;
      return { data: r, table: () => traceText(r) };
    },
  },
};
