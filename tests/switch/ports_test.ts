import assert from "node:assert/strict";
import { memoryPair } from "../../lib/link/memory.ts";
import { A, Layer, Port, ProcessResult } from "../../lib/engine/mod.ts";
import { linkWaiter } from "../../lib/link/wait.ts";
import { Switch } from "../../lib/switch/switch.ts";
import {
  addZone,
  frame,
  GW_MAC,
  hex,
  HOST,
  REMOTE,
  routedSled,
  sled,
  udp6,
  ZA,
  ZB,
} from "./harness.ts";

const ZC = { name: "zone-c", mac: "a8:40:25:00:01:0c", ip: "fd00:1::12" };

Deno.test("ports added and removed under traffic: others' flows are undisturbed", () => {
  const s = sled();
  const send = (z: typeof ZA, to: string, sport: number) =>
    s.zones[z.name]?.inject(udp6(z.mac, GW_MAC, z.ip, to, { sport }));
  let aToHost = 0;
  for (let round = 0; round < 30; round++) {
    send(ZA, HOST.ip, round);
    if (round === 10) addZone(s, ZC, "system");
    if (round > 10) send(ZA, ZC.ip, round);
    if (round === 20) assert.equal(s.sw.removePort(ZB.name), true);
    if (round > 20) send(ZA, ZB.ip, round);
    s.step(1);
    aToHost += s.zones[HOST.name].take().length;
  }
  assert.equal(aToHost, 30);
  const toC = s.zones[ZC.name].take();
  assert.deepEqual(
    toC.map(hex),
    Array.from(
      { length: 19 },
      (_, k) => hex(udp6(GW_MAC, ZC.mac, ZA.ip, ZC.ip, { sport: 11 + k, hop: 63 })),
    ),
  );
  // zone-b's address is gone: not local, and this sled has no route for it.
  assert.equal(s.sw.counters.drop("no-route"), 9);
  assert.equal(s.sw.port(ZB.name), undefined);
  assert.equal(s.zones[ZB.name].isUp(), false, "the removed port's link is closed");
  // Its NS proxy entry went with it.
  s.zones[ZA.name].inject(frame([
    { type: "ethernet", src: ZA.mac, dst: "33:33:ff:00:00:11" },
    { type: "ipv6", src: ZA.ip, dst: "ff02::1:ff00:11", hopLimit: 255 },
    { type: "ndp", kind: "ns", target: ZB.ip, options: [{ type: "sourceLinkAddr", mac: ZA.mac }] },
  ]));
  s.step();
  assert.deepEqual(s.zones[ZA.name].take(), []);
});

Deno.test("port names, MACs and underlay addresses are unique; errors name the field", () => {
  const s = sled();
  const link = () => memoryPair({ name: "x" }, { name: "y" })[0];
  assert.throws(
    () => s.sw.addPort({ name: ZA.name, kind: "system", link: link(), mac: "a8:40:25:00:09:09" }),
    /ports.zone-a: name already in use/,
  );
  assert.throws(
    () => s.sw.addPort({ name: "n1", kind: "system", link: link(), mac: ZA.mac }),
    /ports.n1.mac: a8:40:25:00:01:0a already in use/,
  );
  assert.throws(
    () =>
      s.sw.addPort({
        name: "n2",
        kind: "system",
        link: link(),
        mac: "a8:40:25:00:09:09",
        underlay: [ZB.ip],
      }),
    /ports.n2.underlay\[0\]: fd00:1::11 belongs to zone-b/,
  );
  assert.throws(
    () => s.sw.addPort({ name: "n3", kind: "system", link: link(), mac: "zz" }),
    /ports.n3.mac: "zz" is not a MAC address/,
  );
  assert.equal(s.sw.ports.length, 3);
  const d = s.sw.describePorts().find((p) => p.name === ZB.name)!;
  assert.deepEqual(
    { ...d, link: { ...d.link, stats: undefined } },
    {
      name: "zone-b",
      kind: "system",
      mac: "a8:40:25:00:01:0b",
      underlay: ["fd00:1::11"],
      mtu: 1500,
      vni: 0,
      overlay: false,
      link: { name: "zone-b", kind: "memory", up: true, stats: undefined },
    },
  );
});

Deno.test("submitted commands apply between batches, in order, with errors reported", async () => {
  const s = routedSled();
  const added = s.sw.submit({
    op: "addPort",
    spec: {
      name: ZC.name,
      kind: "system",
      link: memoryPair({ name: "c" }, { name: "c-zone" })[0],
      mac: ZC.mac,
      underlay: [ZC.ip],
    },
  });
  const bad = s.sw.submit({ op: "removeRoute", prefix: "fd00:9::/64" });
  assert.equal(s.sw.port(ZC.name), undefined, "not applied before the next pass");
  s.step();
  await added;
  await assert.rejects(bad, /routes\.fd00:9::\/64: no such route/);
  assert.equal(s.sw.port(ZC.name)?.name, ZC.name);
  await Promise.all([
    s.sw.submit({ op: "removeRoute", prefix: "fd00:2::/64" }),
    s.step(),
  ]);
  s.zones[ZA.name].inject(udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE));
  s.step();
  assert.equal(s.sw.counters.drop("no-route"), 1);
});

Deno.test("run loop: frames flow with real time and memory readiness", async () => {
  const [swA, zA] = memoryPair({ name: "a" }, { name: "a-zone", mac: ZA.mac });
  const [swB, zB] = memoryPair({ name: "b" }, { name: "b-zone", mac: ZB.mac });
  const sw = new Switch({ underlayPrefix: "fd00::/16", sledAddress: "fd00:1::1", underlay: [] });
  sw.addPort({ name: "a", kind: "system", link: swA, mac: ZA.mac, underlay: [ZA.ip] });
  sw.addPort({ name: "b", kind: "system", link: swB, mac: ZB.mac, underlay: [ZB.ip] });
  const stop = { stopped: false };
  const loop = sw.run(stop, linkWaiter(sw));
  try {
    for (let k = 0; k < 5; k++) {
      zA.inject(udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip, { sport: k }));
      assert.equal(await zB.waitReadable(2000), true);
      assert.deepEqual(
        zB.take().map(hex),
        [hex(udp6(GW_MAC, ZB.mac, ZA.ip, ZB.ip, { sport: k, hop: 63 }))],
      );
    }
  } finally {
    stop.stopped = true;
    await loop;
  }
});

Deno.test("removing a port releases its pipeline's flows and what they hold", () => {
  const s = routedSled();
  let held = 0;
  const nat = new Layer({
    name: "nat",
    rules: {
      out: [{
        priority: 1,
        action: A.stateful("hold", () => {
          held++;
          return { name: "hold", transform: () => null, release: () => held-- };
        }),
      }],
    },
  });
  const pipeline = new Port({ name: "vm", layers: [nat], clock: () => s.clock.t });
  pipeline.start();
  const [mine, guest] = memoryPair({ name: "vm" }, { name: "vm-guest" });
  s.sw.addPort({
    name: "vm",
    kind: "instance",
    link: mine,
    mac: "a8:40:25:fa:00:01",
    vni: 10,
    pipeline,
  });
  for (let p = 0; p < 3; p++) {
    guest.inject(frame([
      { type: "ethernet", src: "a8:40:25:fa:00:01", dst: GW_MAC },
      { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" },
      { type: "udp", srcPort: 1000 + p, dstPort: 53 },
    ]));
  }
  s.step();
  assert.equal(held, 3, "one held resource per flow");
  // (The flows were dropped for lack of encapsulation; their state stays until released.)
  assert.equal(s.sw.counters.drop("vpc-not-encap"), 3);
  s.sw.removePort("vm");
  assert.equal(held, 0);
});

Deno.test("a pipeline that throws costs one counted frame, never the loop", () => {
  const s = sled();
  const [mine, guest] = memoryPair({ name: "bad" }, { name: "bad-guest" });
  const pipeline = {
    result: new ProcessResult(),
    process(): number {
      throw new Error("pipeline bug");
    },
  };
  s.sw.addPort({ name: "bad", kind: "instance", link: mine, mac: "a8:40:25:fa:00:99", pipeline });
  guest.inject(frame([
    { type: "ethernet", src: "a8:40:25:fa:00:99", dst: GW_MAC },
    { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.2" },
    { type: "udp", srcPort: 1, dstPort: 2 },
  ]));
  s.zones[ZA.name].inject(udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip));
  s.step();
  assert.equal(s.sw.counters.drop("internal"), 1);
  assert.match(s.sw.lastError ?? "", /pipeline bug/);
  assert.equal(s.zones[ZB.name].take().length, 1, "the next frame still went through");
});
