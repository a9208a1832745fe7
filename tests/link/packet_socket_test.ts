// AF_PACKET underlay link on a veth pair between two throwaway namespaces: the shared link
// tests for both receive paths, then kernel drop accounting and link-down detection.
import assert from "node:assert/strict";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { LinkMonitor } from "../../lib/link/monitor.ts";
import { collect, fill, linkConformance, withVeth } from "./conformance.ts";
import { isRoot, linkNames, sh } from "./netns.ts";

linkConformance(
  "packet socket (TPACKET_V2 ring)",
  (netns, ifname, o) => PacketLink.open({ netns, ifname, rx: "ring", txBatch: 16, ...o }),
);
linkConformance(
  "packet socket (TPACKET_V3 ring)",
  (netns, ifname, o) => PacketLink.open({ netns, ifname, rx: "ring3", txBatch: 16, ...o }),
);
linkConformance(
  "packet socket (recvmmsg)",
  (netns, ifname, o) => PacketLink.open({ netns, ifname, rx: "mmsg", txBatch: 16, ...o }),
);

Deno.test({
  name: "packet socket: a 2000-frame burst fits the ring without kernel drops",
  ignore: !isRoot("packet socket burst"),
  async fn() {
    await withVeth((nsA, nsB, a, b) => {
      const la = PacketLink.open({ netns: nsA, ifname: a });
      const lb = PacketLink.open({ netns: nsB, ifname: b });
      try {
        const out = new FrameBatch(200, 2048);
        for (let k = 0; k < 10; k++) {
          fill(out, 200, lb.mac, la.mac, k);
          assert.equal(la.send(out, 200), 200);
        }
        assert.equal(collect(lb, 2000).length, 2000);
        assert.equal(lb.kernelDrops(), 0);
      } finally {
        la.close();
        lb.close();
      }
    });
  },
});

Deno.test({
  name: "packet socket: link-down is noticed through rtnetlink and ioctl, and up again",
  ignore: !isRoot("packet socket link-down"),
  async fn() {
    await withVeth((nsA, nsB, a, b) => {
      const link = PacketLink.open({ netns: nsA, ifname: a });
      const mon = new LinkMonitor(nsA);
      mon.watch(link);
      const mp = new Poller([mon.fd]);
      const waitFor = (up: boolean) => {
        const end = Date.now() + 2000;
        const events = [];
        while (link.isUp() !== up && Date.now() < end) {
          mp.wait(50);
          events.push(...mon.poll());
        }
        return events;
      };
      try {
        assert.ok(link.isUp());
        sh(["ip", "-n", nsB, "link", "set", b, "down"]); // peer down: a loses carrier
        const events = waitFor(false);
        assert.ok(!link.isUp(), "monitor marked the link down");
        assert.ok(events.some((e) => e.name === a && !e.up && !e.removed));
        assert.equal(link.refresh(), false, "ioctl agrees: not running");
        sh(["ip", "-n", nsB, "link", "set", b, "up"]);
        waitFor(true);
        assert.ok(link.isUp(), "and up again");
        assert.equal(link.refresh(), true);
      } finally {
        mon.close();
        link.close();
      }
      assert.ok(linkNames(nsA).includes(a), "the underlay interface itself is left alone");
    });
  },
});

Deno.test({
  name: "packet socket: failed opens (no such link, bad ring geometry, no namespace) say why",
  ignore: !isRoot("packet socket error paths"),
  async fn() {
    await withVeth((nsA, _nsB, a) => {
      assert.throws(
        () => PacketLink.open({ netns: nsA, ifname: "nosuch0" }),
        /SIOCGIFINDEX nosuch0/,
      );
      assert.throws(
        () => PacketLink.open({ netns: nsA, ifname: a, blockSize: 5000 }),
        /PACKET_RX_RING/,
      );
      assert.throws(
        () => PacketLink.open({ netns: "xdt-no-such-ns", ifname: a }),
        /xdt-no-such-ns/,
      );
      // fd and mapping accounting for these paths: leak_test.ts (a process of its own)
    });
  },
});

Deno.test({
  name: "packet socket: joining a solicited-node multicast group shows in the device's list",
  ignore: !isRoot("packet socket multicast"),
  async fn() {
    await withVeth((nsA, _nsB, a) => {
      const link = PacketLink.open({ netns: nsA, ifname: a });
      const group = Uint8Array.of(0x33, 0x33, 0xff, 0x00, 0x00, 0x10);
      const maddr = () => sh(["ip", "-n", nsA, "maddr", "show", "dev", a]);
      try {
        assert.doesNotMatch(maddr(), /33:33:ff:00:00:10/);
        link.joinMulticast(group);
        assert.match(maddr(), /link\s+33:33:ff:00:00:10/);
        link.leaveMulticast(group);
        assert.doesNotMatch(maddr(), /33:33:ff:00:00:10/);
        link.joinMulticast(group);
      } finally {
        link.close();
      }
      assert.doesNotMatch(maddr(), /33:33:ff:00:00:10/, "close leaves the group");
    });
  },
});
