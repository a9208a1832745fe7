// Allocation probe for flow setup (run by flow_alloc_test.ts in a child Deno with 64 MiB
// semi-spaces, so heap growth is the bytes allocated): the client port of a connection storm
// over the overlay — SYN out (V2P encap, firewall pair, TCP state, UFT entry), SYN-ACK in
// (decap, UFT entry), ACK out, RST out — and prints {"conns", "heap"} (bytes).
import { buildFrame } from "../../lib/packet/build.ts";
import { HEADROOM } from "../../lib/link/link.ts";
import { DIR_IN, DIR_OUT, loadPacket, Packet, RES_MODIFIED } from "../../lib/engine/packet.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";

const A = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10", ul: "fd00:1::1" };
const B = { mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11", ul: "fd00:2::1" };
const m = new Mappings();
for (const g of [A, B]) m.v2p.set(10, g.ip, g.mac, g.ul);
const mk = (g: typeof A) =>
  vpcPort({
    name: g === A ? "a" : "b",
    vni: 10,
    guestMac: g.mac,
    underlay: g.ul,
    v4: { privateIp: g.ip, subnet: "172.30.0.0/22" },
    mappings: m,
    firewall: firewallRulesFromText([{ direction: "in", priority: 1, action: "allow" }]),
    clock: () => 1000,
  });
const a = mk(A), b = mk(B);
const pkt = new Packet(), buf = new Uint8Array(HEADROOM + 2048);

function run(port: typeof a, dir: 0 | 1, f: Uint8Array): void {
  buf.set(f, HEADROOM);
  if (loadPacket(pkt, buf, HEADROOM, f.length) !== null) throw new Error("frame does not parse");
  const code = port.process(dir, pkt);
  if (code !== RES_MODIFIED) throw new Error(`${port.name}: ${code} (${port.result.reason})`);
}

const seg = (out: boolean, sport: number, flags: string) =>
  buildFrame([
    { type: "ethernet", src: out ? A.mac : B.mac, dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: out ? A.ip : B.ip, dst: out ? B.ip : A.ip },
    out
      ? { type: "tcp", srcPort: sport, dstPort: 80, flags, seq: 1000, ack: flags === "S" ? 0 : 1 }
      : { type: "tcp", srcPort: 80, dstPort: sport, flags, seq: 5000, ack: 1001 },
  ]);

const N = 2000;
const conns = Array.from({ length: 2 * N }, (_, i) => {
  const p = 10000 + i, syn = seg(true, p, "S");
  // The SYN-ACK as it reaches port a: B's reply through b's port (encapsulated).
  run(a, DIR_OUT, syn);
  run(b, DIR_IN, pkt.bytes());
  run(b, DIR_OUT, seg(false, p, "SA"));
  return { syn, synAck: pkt.bytes(), ack: seg(true, p, "A"), rst: seg(true, p, "R") };
});
a.port.clearFlows();
const connect = (i: number) => {
  const c = conns[i];
  run(a, DIR_OUT, c.syn);
  run(a, DIR_IN, c.synAck);
  run(a, DIR_OUT, c.ack);
  run(a, DIR_OUT, c.rst);
};
for (let i = 0; i < N; i++) connect(i); // warm: JIT, table growth, caches
// A clean young generation (the setup above filled part of it): no scavenge while measuring.
(globalThis as unknown as { gc?: () => void }).gc?.();
const before = Deno.memoryUsage();
for (let i = N; i < 2 * N; i++) connect(i);
const after = Deno.memoryUsage();
console.log(JSON.stringify({ conns: N, heap: after.heapUsed - before.heapUsed }));
