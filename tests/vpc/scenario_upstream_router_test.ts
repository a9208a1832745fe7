// Upstream's router, external-IP and attached-subnet integration tests
// (oxidecomputer/opte lib/oxide-vpc/tests/integration_tests.rs), replayed against our VPC
// port. Expectations are upstream's stated behaviour: which source address a packet leaves
// with, where it goes, and in which layer it is dropped.

import assert from "node:assert/strict";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import { ipv4ToString, ipv6ToString, macToString } from "../../lib/packet/bytes.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";
import { oxideExternalOption } from "../../lib/packet/geneve.ts";
import type { Route } from "../../lib/vpc/router.ts";
import type { VpcPortConfig } from "../../lib/vpc/config.ts";
import {
  assertDropped,
  assertPassed,
  BOUNDARY,
  buildFrame,
  geneveFrame,
  GW_MAC,
  innerOf,
  Scenario,
  SLED1,
  SLED2,
} from "./harness.ts";

const G1 = { mac: "a8:40:25:fa:00:05", ip: "172.30.0.5" };
const G2 = { mac: "a8:40:25:fa:00:06", ip: "172.30.0.6" };
const SUBNET = "172.30.0.0/22";
const VNI = 10;

const sys = (dest: string, target: Route["target"]): Route => ({ dest, target, class: "system" });
const custom = (dest: string, target: Route["target"]): Route => ({
  dest,
  target,
  class: "custom",
});
/** What Omicron installs for a NIC on SUBNET. */
const SYSTEM = [
  sys(SUBNET, { kind: "vpc-subnet", cidr: SUBNET }),
  sys("0.0.0.0/0", {
    kind: "internet-gateway",
  }),
];

function port(s: Scenario, g: typeof G1, extra: Partial<VpcPortConfig> = {}) {
  return s.port({
    name: g === G1 ? "g1" : "g2",
    vni: VNI,
    guestMac: g.mac,
    underlay: g === G1 ? SLED1 : SLED2,
    v4: { privateIp: g.ip, subnet: SUBNET },
    ...extra,
  });
}

const echo = (
  kind: "echoRequest" | "echoReply",
  src: string,
  dst: string,
  srcMac: string,
  dstMac: string,
): LayerSpec[] => [
  { type: "ethernet", src: srcMac, dst: dstMac },
  { type: "ipv4", src, dst, id: 1 },
  { type: "icmpv4", kind, id: 7777, seq: 1 },
];
const fromGuest = (
  g: typeof G1,
  src: string,
  dst: string,
  kind: "echoRequest" | "echoReply" = "echoRequest",
) => buildFrame(echo(kind, src, dst, g.mac, GW_MAC));

/** Inner and outer addresses of an emitted Geneve frame (outer IPv6 at 14, inner IPv4). */
function addrs(frame: Uint8Array) {
  const inner = innerOf(frame);
  return {
    outerDst: ipv6ToString(frame, 14 + 24),
    vni: (frame[62 + 4] << 16) | (frame[62 + 5] << 8) | frame[62 + 6],
    innerDstMac: macToString(inner.subarray(0, 6)),
    src: ipv4ToString(inner, 14 + 12),
    dst: ipv4ToString(inner, 14 + 16),
  };
}

Deno.test("select_eip_conditioned_on_igw: the internet gateway of the route picks the external IP", () => {
  const s = new Scenario();
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: BOUNDARY }]);
  const ig = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;
  const [defaultIgw, customIgw0, customIgw1, iplessIgw, allIpsIgw] = [1, 2, 3, 4, 5].map(ig);
  const g1 = port(s, G1, {
    v4: {
      privateIp: G1.ip,
      subnet: SUBNET,
      external: {
        snat: { ip: "10.77.77.13", ports: "1025-4096" },
        ephemeralIp: "192.168.0.1",
        floatingIps: ["192.168.0.2", "192.168.0.3", "192.168.0.4"],
        inetGwMap: {
          "192.168.0.1": [defaultIgw, allIpsIgw],
          "192.168.0.2": [customIgw0, allIpsIgw],
          "192.168.0.3": [customIgw0, allIpsIgw],
          "192.168.0.4": [customIgw1, allIpsIgw],
        },
      },
    },
    routes: [
      sys("0.0.0.0/0", { kind: "internet-gateway", id: defaultIgw }),
      custom("1.1.1.0/24", { kind: "internet-gateway", id: customIgw0 }),
      custom("2.2.2.0/24", { kind: "internet-gateway", id: customIgw1 }),
      custom("3.3.3.0/24", { kind: "internet-gateway", id: iplessIgw }),
      custom("4.4.4.0/24", { kind: "internet-gateway", id: allIpsIgw }),
    ],
  });
  const srcFor = (dst: string) => addrs(assertPassed(s.send(g1, "out", fromGuest(G1, G1.ip, dst))));
  // Default route: the ephemeral IP, the only address of the default gateway.
  assert.equal(srcFor("77.77.77.77").src, "192.168.0.1");
  assert.equal(srcFor("77.77.77.77").outerDst, BOUNDARY);
  // Custom gateway 0: one of its two floating IPs.
  assert.ok(["192.168.0.2", "192.168.0.3"].includes(srcFor("1.1.1.1").src));
  // Custom gateway 1: its only floating IP.
  assert.equal(srcFor("2.2.2.2").src, "192.168.0.4");
  // A gateway with no address: denied in the nat layer (no valid source to use).
  const o = s.send(g1, "out", fromGuest(G1, G1.ip, "3.3.3.3"));
  assertDropped(o);
  assert.equal(o.layer, "nat");
  // A gateway every address serves: floating IPs win over the ephemeral IP (priority order).
  assert.ok(["192.168.0.2", "192.168.0.3", "192.168.0.4"].includes(srcFor("4.4.4.4").src));
});

Deno.test("external_attached_subnets_dont_apply_nat: in and out untranslated, out to boundary services", () => {
  const s = new Scenario();
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: BOUNDARY }]);
  const g1 = port(s, G1, {
    routes: [sys("0.0.0.0/0", { kind: "internet-gateway" })],
    firewall: firewallRulesFromText([{
      direction: "in",
      priority: 100,
      action: "allow",
      protocol: "icmp",
    }]),
  });
  g1.setSubnets({ attached: [{ cidr: "8.0.0.0/8", external: true }], transit: [] });
  const inbound = geneveFrame(
    BOUNDARY,
    SLED1,
    VNI,
    echo("echoRequest", "1.1.1.1", "8.8.8.8", "a8:40:25:77:77:77", G1.mac),
    [oxideExternalOption()],
  );
  const delivered = assertPassed(s.send(g1, "in", inbound));
  assert.equal(ipv4ToString(delivered, 14 + 12), "1.1.1.1");
  assert.equal(ipv4ToString(delivered, 14 + 16), "8.8.8.8");
  const reply = addrs(
    assertPassed(s.send(g1, "out", fromGuest(G1, "8.8.8.8", "1.1.1.1", "echoReply"))),
  );
  assert.equal(reply.outerDst, BOUNDARY);
  assert.equal(reply.src, "8.8.8.8");
  assert.equal(reply.dst, "1.1.1.1");
});

Deno.test("external_attached_subnets_cannot_reach_internal: dropped at the overlay", () => {
  const s = new Scenario();
  s.mappings.v2p.set(VNI, G2.ip, G2.mac, SLED1);
  const g1 = port(s, G1, { routes: SYSTEM });
  g1.setSubnets({ attached: [{ cidr: "8.0.0.0/8", external: true }], transit: [] });
  const o = s.send(g1, "out", fromGuest(G1, "8.8.8.8", G2.ip));
  assertDropped(o);
  assert.equal(o.layer, "overlay");
  // The same destination from the private address is reachable (the V2P mapping exists).
  assert.equal(addrs(assertPassed(s.send(g1, "out", fromGuest(G1, G1.ip, G2.ip)))).dst, G2.ip);
});

Deno.test("internal_attached_subnets: receive on and send from the subnet; transit IPs on it change nothing; detach withdraws", () => {
  const s = new Scenario();
  s.mappings.v2p.set(VNI, G2.ip, G2.mac, SLED1);
  const g1 = port(s, G1, { routes: SYSTEM });
  const cidr = "10.0.0.0/8", mine = "10.0.123.45";
  g1.setSubnets({ attached: [{ cidr, external: false }], transit: [] });
  const inbound = () =>
    s.send(
      g1,
      "in",
      geneveFrame(SLED1, SLED1, VNI, echo("echoRequest", G2.ip, mine, G2.mac, G1.mac)),
    );
  const outbound = () => s.send(g1, "out", fromGuest(G1, mine, G2.ip, "echoReply"));
  assert.equal(ipv4ToString(assertPassed(inbound()), 14 + 16), mine);
  const out = addrs(assertPassed(outbound()));
  assert.deepEqual([out.outerDst, out.innerDstMac, out.src], [SLED1, G2.mac, mine]);
  // allow-cidr then remove-cidr of the same block, both directions: the attachment stands.
  g1.setSubnets({
    attached: [{ cidr, external: false }],
    transit: [{ cidr, allowIn: true, allowOut: true }],
  });
  g1.setSubnets({ attached: [{ cidr, external: false }], transit: [] });
  assertPassed(inbound());
  assertPassed(outbound());
  // ...until the attachment itself goes.
  g1.setSubnets({ attached: [], transit: [] });
  assertDropped(outbound(), "anti-spoof");
  const o = inbound();
  assertDropped(o);
  assert.equal(o.layer, "gateway");
});

Deno.test("port_as_router_target: a route to a port's IP reaches that port, which may send and receive on the block", () => {
  const s = new Scenario();
  s.mappings.v2p.set(VNI, G1.ip, G1.mac, SLED1);
  s.mappings.v2p.set(VNI, G2.ip, G2.mac, SLED2);
  const cidr = "192.168.0.0/16", dst = "192.168.0.1";
  const g1 = port(s, G1, { routes: [...SYSTEM, custom(cidr, { kind: "ip", ip: G2.ip })] });
  const g2 = port(s, G2, { routes: SYSTEM });
  g2.setSubnets({ attached: [], transit: [{ cidr, allowIn: true, allowOut: true }] });
  const w = assertPassed(s.send(g1, "out", fromGuest(G1, G1.ip, dst)));
  // Encap to g2's sled and NIC; inner addresses untouched.
  assert.deepEqual(addrs(w), {
    outerDst: SLED2,
    vni: VNI,
    innerDstMac: G2.mac,
    src: G1.ip,
    dst,
  });
  assertPassed(s.send(g2, "in", w));
  const back = assertPassed(s.send(g2, "out", fromGuest(G2, dst, G1.ip, "echoReply")));
  assert.deepEqual([addrs(back).outerDst, addrs(back).innerDstMac], [SLED1, G1.mac]);
  assertPassed(s.send(g1, "in", back));
  // Removing the block piecewise: inbound first, then outbound.
  g2.setSubnets({ attached: [], transit: [{ cidr, allowIn: false, allowOut: true }] });
  assertDropped(s.send(g2, "in", w), "anti-spoof");
  assertPassed(s.send(g2, "out", fromGuest(G2, dst, G1.ip, "echoReply")));
  g2.setSubnets({ attached: [], transit: [] });
  assertDropped(s.send(g2, "out", fromGuest(G2, dst, G1.ip, "echoReply")), "anti-spoof");
});

Deno.test("intra_subnet_routes_with_custom: a custom drop beats the system route; deleting it restores", () => {
  const s = new Scenario();
  const cidr = "172.30.4.0/22", dst = "172.30.4.5";
  s.mappings.v2p.set(VNI, dst, "a8:40:25:f0:00:66", "fd00:f7:116::1");
  const g1 = port(s, G1, { routes: [...SYSTEM, sys(cidr, { kind: "vpc-subnet", cidr })] });
  assert.equal(
    addrs(assertPassed(s.send(g1, "out", fromGuest(G1, G1.ip, dst)))).outerDst,
    "fd00:f7:116::1",
  );
  const drop = custom(cidr, { kind: "drop" });
  g1.addRoute(drop);
  const o = s.send(g1, "out", fromGuest(G1, G1.ip, dst));
  assertDropped(o);
  assert.equal(o.layer, "router");
  assert.ok(g1.removeRoute(drop));
  assertPassed(s.send(g1, "out", fromGuest(G1, G1.ip, dst)));
});
