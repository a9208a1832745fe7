// The runtime on the memory platform, in-process and in a Worker: config Changes build the
// sled, and frames cross it zone↔zone, zone↔GZ, instance↔instance and zone→rack; firewall
// and port changes take effect; refused changes name the field and change nothing.

import assert from "node:assert/strict";
import { DatapathRejected } from "../../lib/contract/datapath.ts";
import { macToString } from "../../lib/packet/bytes.ts";
import {
  collect,
  frame,
  GW_MAC,
  hex,
  HOST,
  initialChanges,
  inProcess,
  inWorker,
  RACK_LL,
  RACK_MAC,
  type Rig,
  sledConfig,
  udp4,
  udp6,
  UL_LL,
  VA,
  VB,
  ZA,
  ZB,
} from "./fixture.ts";

const MODES: [string, () => Promise<Rig>][] = [
  ["in-process", () => Promise.resolve(inProcess(sledConfig()))],
  ["worker", () => inWorker(sledConfig())],
];

async function built(make: () => Promise<Rig>): Promise<Rig> {
  const r = await make();
  for (const c of initialChanges(sledConfig())) await r.dp.apply(c);
  return r;
}

for (const [mode, make] of MODES) {
  Deno.test(`${mode}: zone↔zone and zone→GZ cross the runtime with exact frames`, async () => {
    const r = await built(make);
    try {
      await r.inject(ZA.name, udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip));
      await r.inject(ZB.name, udp6(ZB.mac, GW_MAC, ZB.ip, HOST.ip));
      assert.deepEqual((await collect(r, ZB.name, 1)).map(hex), [
        hex(udp6(GW_MAC, ZB.mac, ZA.ip, ZB.ip, 63)),
      ]);
      assert.deepEqual((await collect(r, HOST.name, 1)).map(hex), [
        hex(udp6(GW_MAC, HOST.mac, ZB.ip, HOST.ip, 63)),
      ]);
    } finally {
      await r.close();
    }
  });

  Deno.test(`${mode}: instance↔instance through the VPC; a deny rule then drops`, async () => {
    const r = await built(make);
    try {
      await r.inject(VA.name, udp4(VA.mac, GW_MAC, VA.ip, VB.ip));
      assert.deepEqual((await collect(r, VB.name, 1)).map(hex), [
        hex(udp4(GW_MAC, VB.mac, VA.ip, VB.ip)),
      ]);
      await r.dp.apply({
        kind: "firewall",
        key: VB.name,
        value: [{
          id: 0,
          direction: "in",
          priority: 10,
          action: "allow",
          protocol: "udp",
          ports: "5555",
          host: "any",
        }],
      });
      // A new flow to 4445 is not allowed in; 5555 is (the replace also cut the 4444 flow, as
      // upstream's set_fw_rules clears the firewall's flows).
      await r.inject(VA.name, udp4(VA.mac, GW_MAC, VA.ip, VB.ip, 4445));
      await r.inject(VA.name, udp4(VA.mac, GW_MAC, VA.ip, VB.ip, 5555));
      const got = await collect(r, VB.name, 2, 300);
      assert.deepEqual(got.map(hex), [hex(udp4(GW_MAC, VB.mac, VA.ip, VB.ip, 5555))]);
    } finally {
      await r.close();
    }
  });

  Deno.test(`${mode}: zone→rack resolves the next hop by NDP, then forwards`, async () => {
    const r = await built(make);
    try {
      // The switch solicits the rack router on ul0; answer it.
      const ns = (await collect(r, "ul0", 1)).find((f) => f[54] === 135);
      assert.ok(ns, "no NS for the rack router");
      const ulMac = macToString(ns, 6);
      await r.inject(
        "ul0",
        frame([
          { type: "ethernet", src: RACK_MAC, dst: ulMac },
          { type: "ipv6", src: RACK_LL, dst: UL_LL, hopLimit: 255 },
          {
            type: "ndp",
            kind: "na",
            target: RACK_LL,
            router: true,
            solicited: true,
            override: true,
            options: [{ type: "targetLinkAddr", mac: RACK_MAC }],
          },
        ]),
      );
      const remote = "fd00:2::10";
      let got: Uint8Array[] = [];
      for (let i = 0; i < 20 && got.length === 0; i++) {
        await r.inject(ZA.name, udp6(ZA.mac, GW_MAC, ZA.ip, remote));
        got = (await collect(r, "ul0", 1, 100)).filter((f) => f[54] !== 135);
      }
      assert.equal(hex(got[0]), hex(udp6(ulMac, RACK_MAC, ZA.ip, remote, 63)));
    } finally {
      await r.close();
    }
  });

  Deno.test(`${mode}: refused changes name the field; removing a port releases it`, async () => {
    const r = await built(make);
    try {
      await assert.rejects(
        r.dp.apply({ kind: "router", key: "nope", value: [] }),
        (e) => e instanceof DatapathRejected && e.field === "port" && /nope/.test(e.reason),
      );
      // Same MAC as zone-a: refused, and zone-a still works.
      await assert.rejects(
        r.dp.apply({
          kind: "port",
          key: "zone-c",
          value: { name: "zone-c", kind: "system", mac: ZA.mac, addresses: [], mtu: 1500 },
        }),
        (e) => e instanceof DatapathRejected && /mac/.test(e.field),
      );
      assert.equal(r.dp.portStatus("zone-c"), null);
      await r.dp.apply({ kind: "port", key: ZB.name, value: null });
      await r.inject(ZA.name, udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip));
      await r.inject(ZA.name, udp6(ZA.mac, GW_MAC, ZA.ip, HOST.ip));
      assert.equal((await collect(r, HOST.name, 1)).length, 1);
      await assert.rejects(r.take(ZB.name), /no memory link zone-b/);
      assert.equal(r.dp.portStatus(ZB.name), null);
      const st = r.dp.portStatus(ZA.name);
      assert.equal(st?.counters.rx_frames, 2);
      const drops = r.dp.counters().find((s) =>
        s.name === "xdeno_switch_drops_total" && s.value > 0
      );
      assert.ok(drops, "the frame to the removed zone was counted as a drop");
    } finally {
      await r.close();
    }
  });

  Deno.test(`${mode}: a subscription applied before its M2P mapping, and kept across a re-map`, async () => {
    const r = await built(make);
    const group = "ff0e::77", underlay = "ff04::77";
    const toGroup = (src: string) =>
      frame([
        { type: "ethernet", src, dst: "33:33:00:00:00:77" },
        { type: "ipv6", src: ZA.ip, dst: group, hopLimit: 8 },
        { type: "udp", srcPort: 6000, dstPort: 7777 },
        { type: "payload", data: "to everyone" },
      ]);
    try {
      // Config order puts subscriptions before M2P: the runtime must not refuse or forget it.
      await r.dp.apply({ kind: "subscription", key: ZB.name, value: [group] });
      await r.dp.apply({ kind: "m2p", key: group, value: { group, underlay } });
      await r.inject(ZA.name, toGroup(ZA.mac));
      assert.deepEqual((await collect(r, ZB.name, 1)).map(hex), [hex(toGroup(GW_MAC))]);
      await r.dp.apply({ kind: "m2p", key: group, value: null });
      await r.dp.apply({ kind: "m2p", key: group, value: { group, underlay } });
      await r.inject(ZA.name, toGroup(ZA.mac));
      assert.deepEqual((await collect(r, ZB.name, 1)).map(hex), [hex(toGroup(GW_MAC))]);
      await r.dp.apply({ kind: "subscription", key: ZB.name, value: null });
      await r.inject(ZA.name, toGroup(ZA.mac));
      assert.deepEqual(await collect(r, ZB.name, 1, 200), []);
    } finally {
      await r.close();
    }
  });

  Deno.test(`${mode}: a paused port neither sends nor receives until resumed`, async () => {
    const r = await built(make);
    try {
      await r.dp.setPortState!(ZB.name, "paused");
      await (r.dp as { refresh?(): Promise<void> }).refresh?.();
      assert.equal(r.dp.portStatus(ZB.name)?.state, "paused");
      await r.inject(ZA.name, udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip));
      assert.deepEqual(await collect(r, ZB.name, 1, 200), []);
      await r.dp.setPortState!(ZB.name, "running");
      await r.inject(ZA.name, udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip));
      assert.deepEqual((await collect(r, ZB.name, 1)).map(hex), [
        hex(udp6(GW_MAC, ZB.mac, ZA.ip, ZB.ip, 63)),
      ]);
      await assert.rejects(r.dp.setPortState!("nope", "paused"), DatapathRejected);
    } finally {
      await r.close();
    }
  });

  Deno.test(`${mode}: a paused VPC port refuses firewall changes (upstream BadState → 409)`, async () => {
    const r = await built(make);
    try {
      await r.dp.setPortState!(VB.name, "paused");
      const rule = {
        kind: "firewall" as const,
        key: VB.name,
        value: [{
          id: 0,
          direction: "in" as const,
          priority: 10,
          action: "allow" as const,
          protocol: "udp" as const,
          host: "any",
        }],
      };
      await assert.rejects(r.dp.apply(rule), (e: unknown) => {
        assert.ok(e instanceof DatapathRejected);
        assert.equal(e.field, "state");
        assert.match(e.reason, new RegExp(`port ${VB.name} is paused: rule change refused`));
        return true;
      });
      await r.dp.setPortState!(VB.name, "running");
      await r.dp.apply(rule);
    } finally {
      await r.close();
    }
  });
}
