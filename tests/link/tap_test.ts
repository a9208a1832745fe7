// TAP port placed in a zone namespace: the zone pings a frame sink in xdeno and gets answers.
import assert from "node:assert/strict";
import { TapLink } from "../../lib/link/tap.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { Rtnl } from "../../ffi/netlink.ts";
import { parseIpv4, parseIpv6, parseMac } from "../../lib/packet/bytes.ts";
import {
  addNetns,
  answer,
  delNetns,
  isRoot,
  linkNames,
  sh,
  tunOpen,
  uniq,
  waitLinkGone,
} from "./netns.ts";

const SINK_MAC = parseMac("a8:40:25:ff:77:77")!;
const ZONE_MAC = parseMac("a8:40:25:00:01:0a")!;

/** Runs the answering sink on `link` until `done` resolves; returns frames answered. */
async function serve(link: TapLink, done: Promise<unknown>): Promise<number> {
  let finished = false;
  done.finally(() => finished = true);
  const batch = new FrameBatch(32, 4096);
  const poller = new Poller([link.fd]);
  const ip4 = parseIpv4("10.77.0.1")!, ip6 = parseIpv6("fd00:77::1")!;
  let answered = 0;
  while (!finished) {
    if (poller.wait(5) > 0) {
      const n = link.recv(batch);
      for (let i = 0; i < n; i++) {
        const f = batch.bufs[i].subarray(batch.offs[i]);
        const len = answer(f, batch.lens[i], SINK_MAC, ip4, ip6);
        if (len > 0 && link.sendFrame(batch.bufs[i], batch.offs[i], len)) answered++;
      }
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  return answered;
}

/**
 * Gives the zone's TAP `name` the IPv4 address `net`.2/24 and a static neighbour for `net`.1,
 * IPv6 off, so the only frames on it are the ones the test sends.
 */
function quietV4(zone: string, name: string, net: string): void {
  sh(["ip", "netns", "exec", zone, "sysctl", "-qw", `net.ipv6.conf.${name}.disable_ipv6=1`]);
  const rt = new Rtnl(zone);
  rt.addAddress(rt.indexOf(name), parseIpv4(`${net}.2`)!, 24);
  rt.close();
  sh(["ip", "-n", zone, "neigh", "add", `${net}.1`, "lladdr", "a8:40:25:ff:77:77", "dev", name]);
}

Deno.test({
  name: "tap: a TAP port in a zone namespace carries ping (v4 and v6) to a sink in xdeno and back",
  ignore: !isRoot("tap ping"),
  async fn() {
    const u = uniq();
    const zone = addNetns(`${u}-zone`);
    let link: TapLink | null = null;
    try {
      link = TapLink.open({ name: `${u}t`, mac: ZONE_MAC, mtu: 1400, netns: zone });
      assert.deepEqual([...link.mac], [...ZONE_MAC]);
      assert.equal(link.mtu, 1400);
      assert.ok(linkNames(zone).includes(link.name), "interface lives in the zone");
      assert.ok(!linkNames(null).includes(link.name), "and not here");
      const rt = new Rtnl(zone);
      const idx = rt.indexOf(link.name);
      rt.addAddress(idx, parseIpv4("10.77.0.2")!, 24);
      rt.addAddress(idx, parseIpv6("fd00:77::2")!, 64);
      rt.close();
      assert.ok(link.refresh(), "carrier up while we hold the fd");
      const ping = (args: string[]) =>
        new Deno.Command("ip", {
          args: ["netns", "exec", zone, "ping", "-c", "3", "-i", "0.2", "-W", "2", ...args],
          stdout: "piped",
          stderr: "piped",
        }).output();
      const p4 = ping(["10.77.0.1"]);
      const answered4 = await serve(link, p4);
      const r4 = await p4;
      assert.ok(r4.success, new TextDecoder().decode(r4.stdout));
      const p6 = ping(["fd00:77::1"]);
      const answered6 = await serve(link, p6);
      const r6 = await p6;
      assert.ok(r6.success, new TextDecoder().decode(r6.stdout));
      assert.match(new TextDecoder().decode(r6.stdout), /3 received/);
      // 3 echoes + ARP, 3 echoes + NS (at least)
      assert.ok(answered4 >= 4 && answered6 >= 4, `answered ${answered4}/${answered6}`);
      assert.ok(link.stats.rxFrames >= 8 && link.stats.txFrames >= 8);
    } finally {
      link?.close();
      link?.close();
      try {
        assert.ok(!tunOpen(`${u}t`), "no fd on the TAP left");
        assert.ok(waitLinkGone(zone, `${u}t`), "TAP gone after close");
      } finally {
        delNetns(zone);
      }
    }
  },
});

Deno.test({
  name: "tap: creation errors (bad MTU, no namespace, long name) release everything",
  ignore: !isRoot("tap error path"),
  fn() {
    const u = uniq();
    assert.throws(() => TapLink.open({ name: `${u}e`, mtu: 10 }), /SIOCSIFMTU/);
    assert.throws(() => TapLink.open({ name: `${u}f`, netns: "xdt-no-such-ns" }), /xdt-no-such-ns/);
    assert.throws(() => TapLink.open({ name: "a-name-longer-than-15" }), /name too long/);
    // (fd accounting for these paths runs in a process of its own: leak_test.ts)
    assert.ok(!tunOpen(`${u}e`) && !tunOpen(`${u}f`), "no fd on the TAPs left");
    assert.ok(waitLinkGone(null, `${u}e`) && waitLinkGone(null, `${u}f`), "no TAP left behind");
  },
});

Deno.test({
  name: "tap: a multi-queue TAP spreads the zone's flows over its queues; closing all removes it",
  ignore: !isRoot("tap multi-queue"),
  async fn() {
    const u = uniq();
    const zone = addNetns(`${u}-mq`);
    try {
      const qs = TapLink.openQueues({ name: `${u}q`, netns: zone }, 2);
      try {
        assert.equal(qs.length, 2);
        assert.equal(qs[0].name, qs[1].name);
        assert.notEqual(qs[0].fd, qs[1].fd);
        const rt = new Rtnl(zone);
        rt.addAddress(rt.indexOf(qs[0].name), parseIpv4("10.80.0.2")!, 24);
        rt.close();
        sh([
          "ip",
          "-n",
          zone,
          "neigh",
          "add",
          "10.80.0.1",
          "lladdr",
          "a8:40:25:ff:77:77",
          "dev",
          qs[0].name,
        ]);
        // 64 UDP flows (distinct source ports) from the zone
        const gen = "import socket\nfor p in range(20000, 20064):\n" +
          "  s = socket.socket(2, 2); s.bind(('', p)); s.sendto(b'x', ('10.80.0.1', 9)); s.close()";
        const r = await new Deno.Command("ip", {
          args: ["netns", "exec", zone, "/usr/bin/python3", "-c", gen],
        }).output();
        assert.ok(r.success);
        const counts = qs.map((q) => {
          const b = new FrameBatch(128, 2048);
          let udp = 0, n;
          while ((n = q.recv(b)) > 0) {
            for (let i = 0; i < n; i++) if (b.bufs[i][b.offs[i] + 23] === 17) udp++;
          }
          return udp;
        });
        assert.equal(counts[0] + counts[1], 64, `per queue ${counts}`);
        assert.ok(counts[0] > 0 && counts[1] > 0, `both queues used: ${counts}`);
      } finally {
        qs[0].close();
        assert.ok(linkNames(zone).includes(qs[1].name), "still there while one queue is open");
        qs[1].close();
      }
      assert.ok(!tunOpen(`${u}q`) && waitLinkGone(zone, `${u}q`), "gone with the last queue");
    } finally {
      delNetns(zone);
    }
  },
});

Deno.test({
  name: "tap: a frame larger than the batch buffer is counted and dropped, never cut short",
  ignore: !isRoot("tap truncation"),
  async fn() {
    const u = uniq();
    const zone = addNetns(`${u}-tr`);
    try {
      const link = TapLink.open({ name: `${u}r`, netns: zone });
      try {
        quietV4(zone, link.name, "10.81.0");
        await new Deno.Command("ip", {
          args: ["netns", "exec", zone, "ping", "-c", "1", "-s", "600", "-W", "0.2", "10.81.0.1"],
        }).output();
        const small = new FrameBatch(4, 256 + 128);
        while (link.recv(small) > 0) {
          for (let i = 0; i < small.count; i++) {
            assert.ok(small.lens[i] < 256, "only small frames pass");
          }
        }
        assert.ok(link.stats.rxErrors >= 1, `rxErrors ${link.stats.rxErrors}`);
      } finally {
        link.close();
      }
    } finally {
      delNetns(zone);
    }
  },
});

Deno.test({
  name: "tap: recv stops after `max` frames and leaves the rest queued (boundedRecv)",
  ignore: !isRoot("tap bounded read"),
  async fn() {
    const u = uniq();
    const zone = addNetns(`${u}-bd`);
    try {
      const link = TapLink.open({ name: `${u}b`, netns: zone });
      try {
        assert.equal(link.boundedRecv, true);
        quietV4(zone, link.name, "10.82.0");
        // Three echo requests nobody answers: three frames wait on the TAP.
        await new Deno.Command("ip", {
          args: ["netns", "exec", zone, "ping", "-c", "3", "-i", "0.01", "-W", "0.1", "10.82.0.1"],
        }).output();
        const batch = new FrameBatch(8, 2048);
        const poller = new Poller([link.fd]);
        // Count echo requests only: a frame the zone's kernel sent while the TAP came up (before
        // IPv6 was off) may wait in front of them.
        const echoes = () => {
          let n = 0;
          for (let k = 0; k < batch.count; k++) {
            const b = batch.bufs[k], o = batch.offs[k];
            if (b[o + 12] === 0x08 && b[o + 13] === 0x00 && b[o + 23] === 1 && b[o + 34] === 8) n++;
          }
          return n;
        };
        assert.equal(link.recv(batch, 1), 1, "one frame asked, one read");
        let seen = echoes();
        assert.equal(poller.wait(0), 1, "the others are still queued");
        const rest = link.recv(batch);
        assert.ok(rest >= 2, `without max: the rest, up to EAGAIN (${rest})`);
        seen += echoes();
        assert.equal(seen, 3, "all three echo requests read, none lost or cut");
        assert.equal(poller.wait(0), 0);
      } finally {
        link.close();
      }
    } finally {
      delNetns(zone);
    }
  },
});
