// VPC port cost per packet (frame copy + parse + process), for comparison across commits:
//   npx deno bench -A tests/vpc/vpc_bench.ts
import { buildFrame } from "../../lib/packet/build.ts";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import { HEADROOM } from "../../lib/link/link.ts";
import { DIR_IN, DIR_OUT, loadPacket, Packet, RES_MODIFIED } from "../../lib/engine/packet.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";

const m = new Mappings();
m.v2p.set(10, "172.30.0.11", "a8:40:25:fa:00:0b", "fd00:2::1");
m.v2b.set("0.0.0.0/0", [{ ip: "fd00:99::1" }]);
const v4 = (ip: string, snat = false) => ({
  privateIp: ip,
  subnet: "172.30.0.0/22",
  external: snat ? { snat: { ip: "203.0.113.9", ports: "1024-65535" } } : undefined,
});
const a = vpcPort({
  name: "a",
  vni: 10,
  guestMac: "a8:40:25:fa:00:0a",
  underlay: "fd00:1::1",
  v4: v4("172.30.0.10", true),
  mappings: m,
  uftLimit: 1 << 16,
  lftLimit: 1 << 16,
});
const b = vpcPort({
  name: "b",
  vni: 10,
  guestMac: "a8:40:25:fa:00:0b",
  underlay: "fd00:2::1",
  v4: v4("172.30.0.11"),
  mappings: m,
  firewall: firewallRulesFromText([{ direction: "in", priority: 1, action: "allow" }]),
});
const pkt = new Packet(), buf = new Uint8Array(HEADROOM + 2048);
const udp = (dst: string, size: number, sport = 1000) =>
  buildFrame([
    { type: "ethernet", src: "a8:40:25:fa:00:0a", dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "172.30.0.10", dst },
    { type: "udp", srcPort: sport, dstPort: 2000 },
    { type: "payload", data: new Uint8Array(size) },
  ]);
/** Runs `f` through `port`; throws unless it was forwarded (modified), from the UFT if `hit`. */
function run(port: typeof a, dir: 0 | 1, f: Uint8Array, hit = true): void {
  buf.set(f, HEADROOM);
  if (loadPacket(pkt, buf, HEADROOM, f.length) !== null) throw new Error("frame does not parse");
  const code = port.process(dir, pkt);
  if (code !== RES_MODIFIED) throw new Error(`${port.name}: ${code} (${port.port.result.reason})`);
  if (hit !== port.port.result.fastPath) throw new Error(`${port.name}: fast path ${!hit}`);
}
const f64 = udp("172.30.0.11", 64), f1400 = udp("172.30.0.11", 1400), fNat = udp("8.8.8.8", 64);
run(a, DIR_OUT, f64, false);
const wire = pkt.bytes();
run(b, DIR_IN, wire, false);
run(a, DIR_OUT, fNat, false);

Deno.bench("vpc copy+parse only 64B", () => {
  buf.set(f64, HEADROOM);
  if (loadPacket(pkt, buf, HEADROOM, f64.length) !== null) throw new Error("64B does not parse");
});
Deno.bench("vpc out encap 64B (uft hit)", () => run(a, DIR_OUT, f64));
Deno.bench("vpc out encap 1400B (uft hit)", () => run(a, DIR_OUT, f1400));
Deno.bench("vpc out snat+encap 64B (uft hit)", () => run(a, DIR_OUT, fNat));
Deno.bench("vpc in decap 64B (uft hit)", () => run(b, DIR_IN, wire));
// Source ports above 1000, the port of the `fNat` flow made during setup (a UFT hit, not new).
const fresh = Array.from({ length: 60000 }, (_, i) => udp("8.8.8.8", 0, 1001 + i));
let n = 0;
Deno.bench(
  "vpc new flow (snat, slow path)",
  () => {
    // The bench runs more iterations than there are fresh flows: start over on a clean table
    // (amortised, included) rather than hit the flows made the first time round.
    if (n === fresh.length) n = 0, a.port.clearFlows();
    run(a, DIR_OUT, fresh[n++], false);
  },
);

// A connection storm's per-connection work on each sled: the SYN leaving the client's port (V2P
// encap, firewall pair, TCP state, UFT entry) and arriving at the server's (decap, the same there).
// 8,000 of them: below the TCP tables' 8,192, so no eviction scan is in the figure.
const syn = (sport: number) =>
  buildFrame([
    { type: "ethernet", src: "a8:40:25:fa:00:0a", dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.11" },
    { type: "tcp", srcPort: sport, dstPort: 80, flags: "S", seq: 1000 },
  ]);
const syns = Array.from({ length: 8000 }, (_, i) => syn(20000 + i));
// A port like `a` of its own: clearing its flows leaves `a`'s UFT-hit benches their flows.
const c = vpcPort({
  name: "c",
  vni: 10,
  guestMac: "a8:40:25:fa:00:0a",
  underlay: "fd00:1::1",
  v4: v4("172.30.0.10"),
  mappings: m,
});
const synWire = syns.map((f) => {
  run(c, DIR_OUT, f, false);
  return pkt.bytes();
});
c.port.clearFlows();
let nOut = 0, nIn = 0;
Deno.bench("vpc new tcp flow out (v2p encap, slow path)", () => {
  if (nOut === syns.length) nOut = 0, c.port.clearFlows();
  run(c, DIR_OUT, syns[nOut++], false);
});
Deno.bench("vpc new tcp flow in (decap, slow path)", () => {
  if (nIn === synWire.length) nIn = 0, b.port.clearFlows();
  run(b, DIR_IN, synWire[nIn++], false);
});
