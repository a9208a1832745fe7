// Devices vanishing under open links (issue 10): a TAP deleted from its zone, a zone namespace
// deleted (nothing of ours may keep it alive), a stale device with a port's name, and an underlay
// veth deleted and re-created with the same name.
import assert from "node:assert/strict";
import { TapLink } from "../../lib/link/tap.ts";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { LinkMonitor } from "../../lib/link/monitor.ts";
import { Plumber } from "../../lib/link/plumb.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { collect, fill } from "./conformance.ts";
import { addNetns, delNetns, isRoot, linkNames, sh, uniq } from "./netns.ts";

/** Receives until the link reports its device lost (≤ 3 s); returns whether it did. */
function untilLost(link: TapLink): boolean {
  const batch = new FrameBatch(4, 2048);
  const end = Date.now() + 3000;
  while (!link.lostDevice && Date.now() < end) {
    link.recv(batch);
    if (!link.lostDevice) sh(["sleep", "0.02"]);
  }
  return link.lostDevice;
}

Deno.test({
  name: "fault: a TAP deleted from its zone goes down once, counts one error, stops polling ready",
  ignore: !isRoot("fault tap deleted"),
  fn() {
    const u = uniq(), zone = addNetns(`${u}z`);
    try {
      const link = TapLink.open({ name: `${u}t`, netns: zone });
      try {
        assert.ok(link.refresh(), "up after open");
        sh(["ip", "-n", zone, "link", "del", `${u}t`]);
        assert.ok(untilLost(link), "EBADFD noticed");
        assert.equal(link.isUp(), false);
        assert.equal(link.stats.rxErrors, 1);
        // The dead tun fd polled POLLERR forever; the fd number now holds a quiet socket.
        assert.equal(new Poller([link.fd]).wait(0), 0, "the fd no longer polls ready");
        const batch = new FrameBatch(4, 2048);
        for (let i = 0; i < 100; i++) assert.equal(link.recv(batch), 0);
        assert.equal(link.stats.rxErrors, 1, "no error loop");
        link.setUp(true); // a stray monitor event cannot revive it
        assert.equal(link.isUp(), false);
        assert.equal(link.sendFrame(new Uint8Array(60), 0, 60), false);
        assert.equal(link.stats.txDropped, 1);
      } finally {
        link.close();
      }
    } finally {
      delNetns(zone);
    }
  },
});

Deno.test({
  name: "fault: a plumbed zone deleted with `ip netns del` dies (no socket of ours pins it)",
  ignore: !isRoot("fault zone deleted"),
  fn() {
    const u = uniq(), zone = addNetns(`${u}z`);
    let link: TapLink | null = null;
    try {
      link = TapLink.open({ name: `${u}t`, netns: zone });
      const plumb = new Plumber(zone);
      plumb.addAddress(`${u}t`, "fd00:99::2/64");
      plumb.park();
      delNetns(zone);
      // The namespace's teardown deletes its TAP; a pinned namespace would keep it forever.
      assert.ok(untilLost(link), "the zone's TAP went away with the zone");
      assert.equal(link.isUp(), false);
      plumb.close(); // undoing in a vanished zone is quiet
    } finally {
      link?.close();
      delNetns(zone);
    }
  },
});

Deno.test({
  name: "fault: a stale device with the port's name in the zone is replaced on open",
  ignore: !isRoot("fault stale tap"),
  fn() {
    const u = uniq(), zone = addNetns(`${u}z`), name = `${u}s`;
    try {
      sh(["ip", "-n", zone, "tuntap", "add", "mode", "tap", "name", name]);
      sh(["ip", "-n", zone, "addr", "add", "fd00:98::9/64", "dev", name, "nodad"]);
      const link = TapLink.open({ name, netns: zone, mtu: 1400 });
      try {
        assert.deepEqual(linkNames(zone).filter((n) => n === name), [name]);
        assert.equal(link.mtu, 1400);
        assert.ok(link.refresh(), "ours is up");
        const addrs = sh(["ip", "-n", zone, "-6", "addr", "show", "dev", name]);
        assert.ok(!addrs.includes("fd00:98::9"), `the stale address went with it: ${addrs}`);
      } finally {
        link.close();
      }
    } finally {
      delNetns(zone);
    }
  },
});

Deno.test({
  name: "fault: an underlay veth deleted and re-created is re-bound through the link monitor",
  ignore: !isRoot("fault underlay re-created"),
  fn() {
    const u = uniq(), ns = addNetns(`${u}g`), a = `${u}a`, b = `${u}b`;
    const veth = () => {
      sh(["ip", "-n", ns, "link", "add", a, "type", "veth", "peer", b]);
      sh(["ip", "-n", ns, "link", "set", a, "up"]);
      sh(["ip", "-n", ns, "link", "set", b, "up"]);
    };
    try {
      veth();
      const link = PacketLink.open({ netns: ns, ifname: a, promisc: true });
      const mon = new LinkMonitor(ns);
      mon.watch(link);
      try {
        const idx0 = link.ifindex;
        sh(["ip", "-n", ns, "link", "del", a]);
        veth();
        const end = Date.now() + 2000;
        while ((link.ifindex === idx0 || !link.isUp()) && Date.now() < end) {
          mon.poll();
          sh(["sleep", "0.02"]);
        }
        assert.notEqual(link.ifindex, idx0, "bound to the new device");
        assert.equal(link.rebinds, 1);
        assert.ok(link.isUp());
        const newMac = sh(["ip", "-n", ns, "-j", "link", "show", a]);
        const hex = [...link.mac].map((x) => x.toString(16).padStart(2, "0")).join(":");
        assert.ok(newMac.includes(hex), `the new device's MAC ${hex}: ${newMac}`);
        // Traffic both ways over the new device (the peer is a fresh packet link).
        const peer = PacketLink.open({ netns: ns, ifname: b });
        try {
          const out = new FrameBatch(8, 2048);
          fill(out, 8, peer.mac, link.mac, 1);
          assert.equal(link.send(out, 8), 8);
          assert.equal(collect(peer, 8).length, 8, "frames leave over the new device");
          // promisc re-joined: frames to a MAC not the device's still arrive
          fill(out, 8, Uint8Array.of(2, 0, 0, 0, 0, 7), peer.mac, 2);
          assert.equal(peer.send(out, 8), 8);
          assert.equal(collect(link, 8).length, 8, "frames arrive over the new device");
        } finally {
          peer.close();
        }
      } finally {
        mon.close();
        link.close();
      }
    } finally {
      delNetns(ns);
    }
  },
});
