// `xdeno show`, the underlay verbs and pause/start against a running memory-platform service.

import assert from "node:assert/strict";
import { RACK_MAC, resolveRack, startSled } from "../service/sled.ts";
import { readTable, xdeno } from "./cli_helpers.ts";

Deno.test({
  name: "xdeno show, list-underlay-links, list-neighbours, pause-port and start-port",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { dp, h } = await startSled(true);
    try {
      await resolveRack(dp);
      let r = await xdeno(h.url, "set-external-ips", "vm-a", "--floating", "203.0.113.5");
      assert.equal(r.code, 0, r.err);

      r = await xdeno(h.url, "show");
      assert.equal(r.code, 0, r.err);
      const lines = r.out.split("\n");
      assert.match(lines[0], /^switch \(memory datapath, generation \d+\)$/);
      const block = (head: RegExp) => {
        const i = lines.findIndex((l) => head.test(l));
        assert.ok(i >= 0, `${head} missing from\n${r.out}`);
        return lines.slice(i, i + 4).join("\n");
      };
      assert.match(
        block(/^ {4}Port zone-a /),
        /system.*running.*\n {8}mac a8:40:25:00:01:0a, addresses fd00:1::10\/64/,
      );
      const vmA = block(/^ {4}Port vm-a /);
      assert.match(vmA, /overlay vni 10, 172\.30\.0\.10\/22/);
      assert.match(vmA, /external floating 203\.0\.113\.5/);
      assert.match(
        block(/^ {8}Link ul0/),
        /up, mtu \d+, fe80::1:1\n {12}neighbour fe80::ff a8:40:25:99:00:01 \w+/,
      );
      assert.ok(lines.includes("        Route fd00:2::/64 via fe80::ff%ul0"), r.out);
      assert.ok(!lines.includes("    Fleet"), "no fleet block without fleet mode");
      assert.equal(JSON.parse((await xdeno(h.url, "show", "--json")).out).ports.length, 5);

      const links = readTable((await xdeno(h.url, "list-underlay-links")).out);
      assert.deepEqual([links[0].LINK, links[0].UP, links[0]["LINK-LOCAL"]], [
        "ul0",
        "yes",
        "fe80::1:1",
      ]);
      assert.match(links[0].TX, /^\d+$/);
      const neigh = readTable((await xdeno(h.url, "list-neighbours")).out);
      assert.deepEqual(
        [neigh[0].LINK, neigh[0].ADDRESS, neigh[0].MAC],
        ["ul0", "fe80::ff", RACK_MAC],
      );

      r = await xdeno(h.url, "pause-port", "-p", "zone-b");
      assert.equal(r.code, 0, r.err);
      const state = async () =>
        readTable((await xdeno(h.url, "list-ports")).out).find((p) => p.NAME === "zone-b")!.STATE;
      assert.equal(await state(), "paused");
      // (The rack answers no unicast probe here, so STATE may already have moved on.)
      assert.match(neigh[0].STATE, /^(reachable|failed|incomplete)$/);
      // A trace towards the paused port says so.
      r = await xdeno(
        h.url,
        "trace",
        "zone-a",
        "out",
        "udp",
        "[fd00:1::10]:1",
        ">",
        "[fd00:1::11]:2",
      );
      assert.match(r.out, /verdict: drop \(port-down: zone-b is down or paused\)/);
      r = await xdeno(h.url, "start-port", "zone-b");
      assert.equal(r.code, 0, r.err);
      assert.equal(await state(), "running");
      r = await xdeno(h.url, "pause-port", "nope");
      assert.equal(r.code, 1);
    } finally {
      await h.close();
      await dp.close();
    }
  },
});
