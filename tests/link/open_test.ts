// Links from config-style specs, and a LinkSet that leaves nothing behind: not on success, not
// when one spec in the middle fails.
import assert from "node:assert/strict";
import { LinkSet, openLink } from "../../lib/link/open.ts";
import { withVeth } from "./conformance.ts";
import { fdTarget, isRoot, sh, stillOpen, tunOpen, waitLinkGone } from "./netns.ts";

Deno.test("open: a bad MAC in a tap spec is named before anything is created", () => {
  assert.throws(
    () => openLink({ kind: "tap", name: "xdt-bad", mac: "a8:40:25:zz:00:01" }),
    /tap xdt-bad: mac "a8:40:25:zz:00:01" is not a MAC address/,
  );
});

Deno.test({
  name: "open: a LinkSet opens TAP (2 queues) and packet links, plumbs, and close() removes all",
  ignore: !isRoot("link set"),
  async fn() {
    await withVeth((nsA, nsB, a) => {
      const set = new LinkSet();
      const ls = set.openAll([
        { kind: "packet", ifname: a, netns: nsA, promisc: true },
        { kind: "tap", name: `${a}z`, mac: "a8:40:25:00:01:0a", netns: nsB, queues: 2 },
      ]);
      assert.deepEqual(ls.map((l) => l.kind), ["packet", "tap", "tap"]);
      assert.equal(ls[1].mac[5], 0x0a);
      assert.equal(set.monitorFds().length, 2);
      const sockets = [ls[0].fd, ...set.monitorFds()].map(fdTarget);
      const p = set.plumber(nsB);
      p.addAddress(`${a}z`, "fd00:1::10/64");
      p.addRoute({ dst: "fd00::/16", dev: `${a}z`, via: "fe80::1" });
      assert.match(sh(["ip", "-n", nsB, "-6", "route"]), /fd00::\/16 via fe80::1/);
      // a failing spec rolls back only what its own openAll call opened
      assert.throws(() =>
        set.openAll([
          { kind: "tap", name: `${a}y`, netns: nsB },
          { kind: "packet", ifname: "nosuch0", netns: nsA },
        ])
      );
      assert.ok(
        !tunOpen(`${a}y`) && waitLinkGone(nsB, `${a}y`),
        "the first of the failed batch was closed",
      );
      assert.equal(set.links.length, 3);
      set.close();
      set.close();
      assert.ok(!tunOpen(`${a}z`) && waitLinkGone(nsB, `${a}z`), "TAP removed");
      assert.doesNotMatch(sh(["ip", "-n", nsB, "-6", "route"]), /fd00::\/16/);
      assert.deepEqual(stillOpen(sockets), [], "packet socket, ring and monitors released");
    });
  },
});
