import assert from "node:assert/strict";
import {
  firewallRuleFromText,
  type FirewallRuleInput,
  firewallRulesFromText,
} from "../../lib/vpc/firewall_text.ts";
import { ip6, type LayerSpec } from "../../lib/packet/build.ts";
import { oxideMulticastOption } from "../../lib/packet/geneve.ts";
import { expectedFlowHash, expectedFlowLabel, expectedGeneveSrcPort } from "../flow_hash.ts";
import { memoryPair } from "../../lib/link/memory.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";
import { frame, GW_MAC, hex, HOST, RACK_LL, routedSled, SLED, UL, ZA, ZB } from "./harness.ts";

const GROUP = "ff0e::77";
const UNDERLAY = "ff04::77";

function mcastSled() {
  const s = routedSled();
  s.sw.setRoute("fd00:3::/64", [{ link: "ul0", via: RACK_LL }, { link: "ul1", via: RACK_LL }]);
  s.sw.setM2p(GROUP, UNDERLAY);
  s.sw.subscribe(ZA.name, GROUP);
  s.sw.subscribe(ZB.name, GROUP);
  s.sw.setMcastForwarding(UNDERLAY, [
    { via: "fd00:2::1", replication: "underlay" },
    { via: "fd00:3::1", replication: "both" },
  ]);
  return s;
}

function toGroup(srcMac: string, dstMac: string, sport = 6000): LayerSpec[] {
  return [
    { type: "ethernet", src: srcMac, dst: dstMac },
    { type: "ipv6", src: ZA.ip, dst: GROUP, hopLimit: 8 },
    { type: "udp", srcPort: sport, dstPort: 7777 },
    { type: "payload", data: "to everyone" },
  ];
}

Deno.test("multicast from a zone: local subscribers get a copy, each next hop one Geneve copy", () => {
  const s = mcastSled();
  const sent = frame(toGroup(ZA.mac, "33:33:00:00:00:77"));
  s.zones[ZA.name].inject(sent);
  s.step();
  assert.deepEqual(s.zones[ZB.name].take().map(hex), [
    hex(frame(toGroup(GW_MAC, "33:33:00:00:00:77"))),
  ]);
  assert.deepEqual(s.zones[ZA.name].take(), [], "the sender gets no copy");
  assert.deepEqual(s.zones[HOST.name].take(), [], "non-subscribers get nothing");
  const h = expectedFlowHash(17, ZA.ip, GROUP, 6000, 7777);
  const copies = s.rack.map((r) => r.take().filter((f) => f[20] === 17).map(hex)).flat();
  const expect = (i: number, repl: number) =>
    hex(frame([
      { type: "ethernet", src: UL[i].mac, dst: "33:33:00:00:00:77" },
      { type: "ipv6", src: SLED, dst: UNDERLAY, hopLimit: 255, flowLabel: expectedFlowLabel(h) },
      { type: "udp", srcPort: expectedGeneveSrcPort(h), dstPort: 6081, checksum: "zero" },
      { type: "geneve", vni: 77, options: [oxideMulticastOption(repl)] },
      { type: "payload", data: sent },
    ]));
  // Both next hops hash the same flow, so both copies leave on the same link.
  const i = copies[0] === expect(0, 1) ? 0 : 1;
  assert.deepEqual(copies, [expect(i, 1), expect(i, 2)]);
  assert.equal(s.sw.counters.toJSON().events["mcast-forwarded"], 2);
});

Deno.test("underlay multicast is delivered to local subscribers only, never forwarded", () => {
  const s = mcastSled();
  const inner = frame(toGroup("a8:40:25:00:02:0a", "33:33:00:00:00:77"));
  const geneve = (vni: number, group: string) =>
    frame([
      { type: "ethernet", src: UL[0].rackMac, dst: "33:33:00:00:00:77" },
      { type: "ipv6", src: "fd00:2::1", dst: group, hopLimit: 250 },
      { type: "udp", srcPort: 50000, dstPort: 6081, checksum: "zero" },
      { type: "geneve", vni, options: [oxideMulticastOption(1)] },
      { type: "payload", data: inner },
    ]);
  s.rack[0].inject(geneve(77, UNDERLAY));
  s.rack[0].inject(geneve(78, UNDERLAY));
  s.rack[0].inject(geneve(77, "ff04::99"));
  s.step();
  const want = hex(frame(toGroup(GW_MAC, "33:33:00:00:00:77")));
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [want]);
  assert.deepEqual(s.zones[ZB.name].take().map(hex), [want]);
  assert.deepEqual(s.zones[HOST.name].take(), []);
  assert.equal(s.rack[0].take().length + s.rack[1].take().length, 0);
  assert.equal(s.sw.counters.drop("multicast"), 2);
});

Deno.test("unsubscribe and port removal stop delivery; M2P needs a real group", () => {
  const s = mcastSled();
  assert.equal(s.sw.unsubscribe(ZB.name, GROUP), true);
  assert.equal(s.sw.unsubscribe(ZB.name, GROUP), false);
  s.sw.subscribe(HOST.name, GROUP);
  s.sw.removePort(HOST.name);
  s.sw.setMcastForwarding(UNDERLAY, []);
  s.zones[ZA.name].inject(frame(toGroup(ZA.mac, "33:33:00:00:00:77")));
  s.step();
  assert.deepEqual(s.zones[ZB.name].take(), []);
  assert.equal(s.rack[0].take().length + s.rack[1].take().length, 0);
  assert.deepEqual(s.sw.mc.describe().map((g) => g.members), [[ZA.name]]);
  assert.throws(() => s.sw.setM2p("10.0.0.1", UNDERLAY), /not a multicast group/);
  assert.throws(() => s.sw.setM2p("239.1.1.1", "ff05::1"), /not in ff04::\/16/);
  assert.throws(() => s.sw.subscribe(ZA.name, "239.9.9.9"), /no M2P mapping/);
});

Deno.test("IPv4 groups work the same way through M2P", () => {
  const s = routedSled();
  s.sw.setM2p("239.1.2.3", "ff04::e001:203");
  s.sw.subscribe(ZB.name, "239.1.2.3");
  const v4 = (src: string): LayerSpec[] => [
    { type: "ethernet", src, dst: "01:00:5e:01:02:03" },
    { type: "ipv4", src: "172.30.0.10", dst: "239.1.2.3", ttl: 4, id: 9 },
    { type: "udp", srcPort: 1, dstPort: 2 },
  ];
  s.zones[ZA.name].inject(frame(v4(ZA.mac)));
  s.step();
  assert.deepEqual(s.zones[ZB.name].take().map(hex), [hex(frame(v4(GW_MAC)))]);
});

const VM = { name: "vm1", mac: "a8:40:25:fa:00:05", ip: "fd00:a::5" };

/** mcastSled plus an instance with a VPC pipeline (VNI 10), subscribed to the group. */
function withInstance(firewall?: FirewallRuleInput[]) {
  const s = mcastSled();
  const vpc = vpcPort({
    name: VM.name,
    vni: 10,
    guestMac: VM.mac,
    underlay: SLED,
    v6: { privateIp: VM.ip, subnet: "fd00:a::/64" },
    firewall: firewall && firewallRulesFromText(firewall),
    mappings: new Mappings(),
  });
  const [mine, far] = memoryPair(
    { name: VM.name, mtu: 1500, clock: () => s.clock.t },
    { name: `${VM.name}-zone`, mac: VM.mac, mtu: 1500, clock: () => s.clock.t },
  );
  s.sw.addPort({
    name: VM.name,
    kind: "instance",
    link: mine,
    mac: VM.mac,
    vni: 10,
    pipeline: vpc,
  });
  s.zones[VM.name] = far;
  s.sw.subscribe(VM.name, GROUP);
  return { s, vpc };
}

const fromVm = (src: string, l4: LayerSpec, srcMac = VM.mac): Uint8Array =>
  frame([
    { type: "ethernet", src: srcMac, dst: "33:33:00:00:00:77" },
    { type: "ipv6", src, dst: GROUP, hopLimit: 8 },
    l4,
    { type: "payload", data: "hello" },
  ]);

Deno.test("test_ipv6_multicast_encapsulation (instance): Geneve to the underlay group, VNI 77, outer MAC 33:33 + group", () => {
  const { s } = withInstance();
  s.zones[VM.name].inject(fromVm(VM.ip, { type: "udp", srcPort: 12345, dstPort: 5353 }));
  s.step();
  assert.equal(s.zones[ZA.name].take().length, 1);
  assert.equal(s.zones[ZB.name].take().length, 1);
  const copies = s.rack.map((r) => r.take().filter((f) => f[20] === 17)).flat();
  assert.equal(copies.length, 2);
  for (const c of copies) {
    assert.equal(hex(c.subarray(0, 6)), hex(Uint8Array.of(0x33, 0x33, 0, 0, 0, 0x77)));
    assert.deepEqual(c.subarray(22, 38), ip6(SLED)); // outer source: this sled
    assert.deepEqual(c.subarray(38, 54), ip6(UNDERLAY)); // outer destination: the group
    assert.equal((c[66] << 16) | (c[67] << 8) | c[68], 77); // fleet multicast VNI
  }
});

Deno.test("test_tcp_multicast_denied, anti-spoof and the firewall: an instance's multicast is checked by its VPC", () => {
  const { s, vpc } = withInstance([
    { direction: "out", priority: 10, action: "deny", protocol: "udp", ports: "9999" },
  ]);
  const vm = s.zones[VM.name];
  const sent = () => {
    s.step();
    const n = s.zones[ZA.name].take().length + s.zones[ZB.name].take().length +
      s.rack.map((r) => r.take().filter((f) => f[20] === 17).length).reduce((a, b) => a + b, 0);
    return n;
  };
  vm.inject(fromVm(VM.ip, { type: "tcp", srcPort: 12345, dstPort: 80, flags: "S" }));
  assert.equal(sent(), 0);
  assert.equal(vpc.port.stats.drops.get("tcp to a multicast group"), 1);
  vm.inject(fromVm("fd00:a::99", { type: "udp", srcPort: 1, dstPort: 2 }));
  assert.equal(sent(), 0);
  assert.equal(vpc.port.stats.drops.get("anti-spoof"), 1);
  vm.inject(fromVm(VM.ip, { type: "udp", srcPort: 1, dstPort: 9999 }));
  assert.equal(sent(), 0);
  assert.equal(vpc.port.stats.drops.get("firewall deny"), 1);
  assert.equal(s.sw.counters.drop("vpc"), 3);
  vm.inject(fromVm(VM.ip, { type: "udp", srcPort: 1, dstPort: 2 }));
  assert.equal(sent(), 4); // ZA, ZB and one Geneve copy per next hop
});

Deno.test("multicast to an instance needs its firewall's permission (inbound default deny)", () => {
  const { s, vpc } = withInstance();
  const group = frame(toGroup(ZA.mac, "33:33:00:00:00:77"));
  s.zones[ZA.name].inject(group);
  s.step();
  assert.deepEqual(s.zones[VM.name].take(), []);
  assert.equal(vpc.port.stats.drops.get("default deny"), 1);
  vpc.addFirewallRule(
    firewallRuleFromText({ direction: "in", priority: 10, action: "allow", protocol: "udp" }),
  );
  s.zones[ZA.name].inject(group);
  s.step();
  assert.deepEqual(s.zones[VM.name].take().map(hex), [
    hex(frame(toGroup(GW_MAC, "33:33:00:00:00:77"))),
  ]);
});

Deno.test("test_drop_on_unknown_critical_option: underlay multicast with an unknown critical Geneve option is not delivered", () => {
  const s = mcastSled();
  const inner = frame(toGroup("a8:40:25:00:02:0a", "33:33:00:00:00:77"));
  const geneve = (opts: { class: number; type: number; critical?: boolean }[]) =>
    frame([
      { type: "ethernet", src: UL[0].rackMac, dst: "33:33:00:00:00:77" },
      { type: "ipv6", src: "fd00:2::1", dst: UNDERLAY, hopLimit: 250 },
      { type: "udp", srcPort: 50000, dstPort: 6081, checksum: "zero" },
      { type: "geneve", vni: 77, options: opts },
      { type: "payload", data: inner },
    ]);
  s.rack[0].inject(geneve([{ class: 0xffff, type: 0, critical: true }]));
  s.step();
  assert.deepEqual(s.zones[ZA.name].take(), []);
  assert.deepEqual(s.zones[ZB.name].take(), []);
  assert.equal(s.sw.counters.drop("geneve-critical"), 1);
  // The same with a non-critical unknown option is delivered.
  s.rack[0].inject(geneve([{ class: 0xffff, type: 0 }]));
  s.step();
  assert.equal(s.zones[ZA.name].take().length, 1);
});
