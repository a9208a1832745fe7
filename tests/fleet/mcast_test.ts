// Multicast forwarding derived from published subscriptions, against a real etcd: four sleds
// in-process (memory platform, fleet agent, admin control plane). Sleds 1 and 2 subscribe a port
// to a group, sled 3 sends to it, sled 4 does not subscribe. Sled 3 sends one Geneve copy per
// subscribed sled; carried to the sleds its next hops name (the underlay fabric's job), each
// copy reaches the subscribed port there, while sled 4 is sent none (and delivers none even if
// a copy reaches it). A control-plane entry for the group takes over; removing it, and a
// subscriber leaving, move the derived forwarding.

import assert from "node:assert/strict";
import { Control } from "../../lib/admin/control.ts";
import { stateFromConfig } from "../../lib/config/resources.ts";
import { Config } from "../../lib/config/schema.ts";
import { FleetAgent } from "../../lib/fleet/agent.ts";
import { buildFrame } from "../../lib/packet/build.ts";
import { macToString } from "../../lib/packet/bytes.ts";
import { SwitchDatapath } from "../../lib/runtime/mod.ts";
import { MemoryPlatform } from "../../lib/runtime/platform.ts";
import { RACK_MAC, rackAdvert } from "../service/sled.ts";
import { EtcdCluster, haveEtcd, until } from "./etcd.ts";

const skip = !haveEtcd();
if (skip) console.warn("SKIP fleet multicast: etcd not installed (tests/setup.sh installs it)");

const GROUP = "ff0e::77", UNDERLAY = "ff04::77";

async function sled(etcd: EtcdCluster, n: number, subscribe: boolean) {
  const cfg = Config.parse({
    platform: "memory",
    sled: { underlayAddress: `fd00:${n}::1`, underlayPrefix: "fd00::/16" },
    underlay: {
      links: [{ name: "ul0", linkLocal: "fe80::1:1" }],
      routes: [{ prefix: "fd00::/16", nextHops: [{ link: "ul0", via: "fe80::ff" }] }],
    },
    ports: [{
      name: `z${n}`,
      kind: "system",
      mac: `a8:40:25:00:0${n}:0a`,
      addresses: [`fd00:${n}::10/64`],
      ...(subscribe ? { multicast: [GROUP] } : {}),
    }],
    fleet: { etcd: { endpoints: etcd.endpoints }, sledId: `s${n}`, leaseTtlSeconds: 3 },
  });
  const mem = new MemoryPlatform();
  const dp = new SwitchDatapath(cfg, mem, { tickMs: 5 });
  dp.start(undefined, 2);
  const ctl = new Control(stateFromConfig(cfg), new Map(), dp, null);
  const agent = await FleetAgent.prepare(cfg.fleet!, ctl, {
    underlay: `fd00:${n}::1`,
    stateDir: null,
  });
  await ctl.start();
  agent.start();
  return { n, ctl, dp, agent, mem };
}
type Sled = Awaited<ReturnType<typeof sled>>;

/** The next hops (via) sled `s` forwards the underlay group to, or null. */
const vias = (s: Sled) => s.ctl.state.mcastFwd.get(UNDERLAY)?.nextHops.map((h) => h.via) ?? null;

/** Frames arriving at a memory link's far end within `ms`. */
async function frames(s: Sled, link: string, ms = 500): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    out.push(...s.mem.peer(link)!.take());
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

/** IPv6 destination of an Ethernet frame, as text (from the bytes, not our parser). */
const dst6 = (f: Uint8Array) =>
  Array.from({ length: 8 }, (_, i) => ((f[38 + 2 * i] << 8) | f[39 + 2 * i]).toString(16))
    .join(":");

Deno.test({
  name: "fleet multicast: forwarding derived from subscriptions; subscribers receive, others not",
  ignore: skip && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const etcd = await EtcdCluster.start({ n: 1 });
    const sleds: Sled[] = [];
    try {
      await etcd.ctl(
        "put",
        `/xdeno/m2p/${GROUP}`,
        JSON.stringify({ group: GROUP, underlay: UNDERLAY }),
      );
      for (const [n, sub] of [[1, true], [2, true], [3, false], [4, false]] as const) {
        sleds.push(await sled(etcd, n, sub));
      }
      const [s1, s2, s3, s4] = sleds;
      await until(
        "derived forwarding on every sled",
        () =>
          JSON.stringify(vias(s3)) === '["fd00:1::1","fd00:2::1"]' &&
          JSON.stringify(vias(s4)) === '["fd00:1::1","fd00:2::1"]' &&
          JSON.stringify(vias(s1)) === '["fd00:2::1"]' &&
          JSON.stringify(vias(s2)) === '["fd00:1::1"]',
      );
      assert.equal(s3.ctl.sourceOf("mcastFwd", UNDERLAY), "fleet");
      assert.deepEqual(s3.ctl.state.mcastFwd.get(UNDERLAY)!.nextHops.map((h) => h.replication), [
        "underlay",
        "underlay",
      ]);

      // Sled 3's port sends to the group: one Geneve copy per subscribed sled, none for sled 4.
      const sent = buildFrame([
        { type: "ethernet", src: "a8:40:25:00:03:0a", dst: "33:33:00:00:00:77" },
        { type: "ipv6", src: "fd00:3::10", dst: GROUP, hopLimit: 8 },
        { type: "udp", srcPort: 6000, dstPort: 7777 },
        { type: "payload", data: "to the subscribers" },
      ]);
      // The rack router answers sled 3's neighbour solicitation for the route's next hop.
      let ns: Uint8Array | undefined;
      await until("sled 3 solicits its next hop", () => {
        ns ??= s3.mem.peer("ul0")!.take().find((f) => f[54] === 135);
        return ns !== undefined;
      });
      s3.mem.peer("ul0")!.inject(rackAdvert(RACK_MAC, macToString(ns!, 6)));
      await frames(s3, "ul0", 200); // whatever else the underlay said before
      s3.mem.peer("z3")!.inject(sent);
      const copies = (await frames(s3, "ul0")).filter((f) => f[20] === 17);
      assert.equal(copies.length, 2, "one copy per subscribed sled");
      for (const c of copies) assert.equal(dst6(c), "ff04:0:0:0:0:0:0:77");

      // The fabric carries copy k to the sled of next hop k (the switch sends them in that order).
      const byVia = new Map(sleds.map((s) => [`fd00:${s.n}::1`, s]));
      vias(s3)!.forEach((via, k) => byVia.get(via)!.mem.peer("ul0")!.inject(copies[k]));
      // A flooding fabric would bring sled 4 one too: it has no member, nothing is delivered.
      s4.mem.peer("ul0")!.inject(copies[0]);
      const payload = new TextDecoder().decode(sent.subarray(sent.length - 18));
      for (const s of [s1, s2]) {
        const got = await frames(s, `z${s.n}`);
        assert.equal(got.length, 1, `sled ${s.n}'s subscriber gets the frame`);
        assert.equal(new TextDecoder().decode(got[0].subarray(got[0].length - 18)), payload);
      }
      assert.deepEqual(await frames(s4, "z4"), [], "the non-subscriber gets nothing");

      // A control-plane entry for the group wins over the derived one; removing it restores it.
      const explicit = {
        underlay: UNDERLAY,
        nextHops: [{ via: "fd00:9::1", replication: "both" }],
      };
      await etcd.ctl("put", `/xdeno/mcast/${UNDERLAY}`, JSON.stringify(explicit));
      await until("explicit entry", () => JSON.stringify(vias(s3)) === '["fd00:9::1"]');
      await etcd.ctl("del", `/xdeno/mcast/${UNDERLAY}`);
      await until("derived again", () => JSON.stringify(vias(s3)) === '["fd00:1::1","fd00:2::1"]');

      // Sled 2 leaves (its lease is revoked with its subscriptions): one next hop left.
      await s2.agent.close();
      await until(
        "sled 2 gone from the forwarding",
        () => JSON.stringify(vias(s3)) === '["fd00:1::1"]',
      );
      // Each sled applies the revocation from its own watch: sled 1's may lag sled 3's.
      await until("sled 2 gone on sled 1", () => vias(s1) === null);
      assert.equal(vias(s1), null, "sled 1 has no other subscriber to send to");
    } finally {
      for (const s of sleds) {
        await s.agent.close().catch(() => {});
        await s.dp.close();
      }
      await etcd.stop();
    }
  },
});
