import assert from "node:assert/strict";
import fc from "fast-check";
import { DROP_REASONS } from "../../lib/switch/counters.ts";
import { frame, GW_MAC, REMOTE, routedSled, SLED, sled, udp6, UL, ZA, ZB } from "./harness.ts";
import { memoryPair } from "../../lib/link/memory.ts";
import { miniVpc } from "./minivpc.ts";

Deno.test("frames from zones that the switch must not carry are dropped by reason", () => {
  const s = sled();
  const za = s.zones[ZA.name];
  za.inject(udp6(ZA.mac, "a8:40:25:00:01:0b", ZA.ip, ZB.ip)); // not to the gateway MAC
  za.inject(udp6(ZA.mac, GW_MAC, ZB.ip, "fd00:1::1")); // someone else's source
  za.inject(udp6(ZA.mac, GW_MAC, ZA.ip, "2001:db8::1")); // off-underlay, no overlay identity
  za.inject(udp6(ZA.mac, GW_MAC, ZA.ip, ZA.ip)); // to itself
  za.inject(udp6(ZA.mac, GW_MAC, ZA.ip, "fe80::1")); // link-local, not the gateway
  za.inject(udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE)); // no route programmed
  za.inject(udp6(ZA.mac, "33:33:00:00:00:fb", ZA.ip, "ff02::fb")); // multicast (no M2P yet)
  za.inject(frame([
    { type: "ethernet", src: ZA.mac, dst: GW_MAC },
    { type: "ipv4", src: "172.30.0.10", dst: "8.8.8.8" },
    { type: "udp", srcPort: 1, dstPort: 53 },
  ]));
  za.inject(frame([
    { type: "ethernet", src: ZA.mac, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "arp", senderMac: ZA.mac, senderIp: "172.30.0.10", targetIp: "172.30.0.1" },
  ]));
  za.inject(udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip).slice(0, 60)); // truncated
  s.step();
  s.step();
  const c = s.sw.counters.toJSON().drops;
  assert.deepEqual(c, {
    "l2-dst": 1,
    "spoofed-source": 1,
    "no-overlay": 2,
    "port-loop": 1,
    "link-local-dst": 1,
    "no-route": 1,
    multicast: 1,
    "non-ip": 1,
    parse: 1,
  });
  for (const z of Object.values(s.zones)) assert.deepEqual(z.take(), []);
});

Deno.test("arbitrary bytes from any side never throw; every drop has a known reason", () => {
  const s = routedSled();
  const [mine, guest] = memoryPair({ name: "vm" }, { name: "vm-g" });
  const VM = "a8:40:25:fa:00:05";
  s.sw.addPort({
    name: "vm",
    kind: "instance",
    link: mine,
    mac: VM,
    vni: 10,
    pipeline: miniVpc({
      name: "vm",
      mac: VM,
      vni: 10,
      sled: SLED,
      v2p: new Map([["172.30.0.6", { mac: VM, sled: SLED }]]),
    }),
  });
  s.sw.setM2p("ff0e::1", "ff04::1");
  s.sw.subscribe(ZA.name, "ff0e::1");
  const geneve = frame([
    { type: "ethernet", src: UL[0].rackMac, dst: UL[0].mac },
    { type: "ipv6", src: REMOTE, dst: SLED },
    { type: "udp", srcPort: 1, dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni: 10 },
    { type: "ethernet", src: VM, dst: VM },
    { type: "ipv4", src: "172.30.0.6", dst: "172.30.0.5" },
    { type: "udp", srcPort: 1, dstPort: 2 },
  ]);
  const guestFrame = frame([
    { type: "ethernet", src: VM, dst: GW_MAC },
    { type: "ipv4", src: "172.30.0.5", dst: "172.30.0.6" },
    { type: "udp", srcPort: 1, dstPort: 2 },
  ]);
  const bases = [
    [s.zones[ZA.name], udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE)],
    [s.rack[0], udp6(UL[0].rackMac, UL[0].mac, REMOTE, ZA.ip)],
    [s.rack[1], geneve],
    [guest, guestFrame],
  ] as const;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: bases.length - 1 }),
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.integer({ min: 0, max: 120 }),
      (who, bytes, keep) => {
        // Start from a valid frame cut at `keep` so the fuzz reaches every header often.
        const [link, base] = bases[who];
        const head = base.subarray(0, Math.min(base.length, keep));
        const f = new Uint8Array(head.length + bytes.length);
        f.set(head);
        f.set(bytes, head.length);
        link.inject(f);
        s.step(7);
        for (const l of [...Object.values(s.zones), ...s.rack, guest]) l.take();
      },
    ),
    { numRuns: 2000 },
  );
  const drops = s.sw.counters.toJSON().drops;
  assert.ok(Object.values(drops).reduce((a, b) => a + b, 0) > 0);
  assert.ok(Object.keys(drops).every((k) => (DROP_REASONS as readonly string[]).includes(k)));
});
