// Readiness: poll(2) through FFI times out when idle and reports exactly the fds with frames.
import assert from "node:assert/strict";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller, pollLinks, setPeek } from "../../lib/link/poll.ts";
import { LinkMonitor } from "../../lib/link/monitor.ts";
import { linkWaiter } from "../../lib/link/wait.ts";
import { fill, withVeth } from "./conformance.ts";
import { addNetns, delNetns, isRoot, sh, uniq } from "./netns.ts";

Deno.test("poll: an idle netlink monitor fd times out after about the timeout", () => {
  // In a namespace of its own when we can make one: the suite runs test files in parallel, and
  // a monitor of ours would wake on every link another test adds or removes.
  const ns = Deno.uid() === 0 ? addNetns(`${uniq()}pl`) : null;
  const mon = new LinkMonitor(ns); // RTMGRP_LINK needs no privileges
  try {
    const p = new Poller([mon.fd]);
    const t = performance.now();
    assert.equal(p.wait(40), 0);
    const dt = performance.now() - t;
    assert.ok(dt >= 35 && dt < 1000, `waited ${dt} ms`);
    assert.equal(p.ready(0), false);
    assert.equal(p.wait(0), 0);
  } finally {
    mon.close();
    if (ns !== null) delNetns(ns);
  }
});

Deno.test("poll: an fd that is not open is reported (POLLNVAL), not waited on", () => {
  // a number far above anything this process opens (a closed fd could be reused by a parallel
  // test in the same process)
  const fds = [1 << 20];
  const ready = new Uint8Array(1);
  const t = performance.now();
  assert.equal(pollLinks(fds, 1000, ready), 1);
  assert.ok(performance.now() - t < 500);
  assert.equal(ready[0], 1);
});

Deno.test({
  name: "poll: only the link that has frames is ready; it stays ready until drained",
  ignore: !isRoot("poll readiness"),
  async fn() {
    await withVeth((nsA, nsB, a, b) => {
      // no IPv6 on the pair: router/MLD solicitations would make the idle fds readable
      sh(["ip", "netns", "exec", nsA, "sysctl", "-qw", `net.ipv6.conf.${a}.disable_ipv6=1`]);
      sh(["ip", "netns", "exec", nsB, "sysctl", "-qw", `net.ipv6.conf.${b}.disable_ipv6=1`]);
      const la = PacketLink.open({ netns: nsA, ifname: a, rx: "mmsg" });
      const lb = PacketLink.open({ netns: nsB, ifname: b, rx: "mmsg" });
      try {
        const fds = [la.fd, lb.fd];
        const ready = new Uint8Array(2);
        while (pollLinks(fds, 0) > 0) [la, lb].forEach((l) => l.recv(new FrameBatch(64, 2048)));
        assert.equal(pollLinks(fds, 10, ready), 0);
        const out = new FrameBatch(3, 2048);
        fill(out, 3, la.mac, lb.mac, 4);
        lb.send(out, 3);
        assert.equal(pollLinks(fds, 1000, ready), 1);
        assert.deepEqual([...ready], [1, 0]);
        assert.equal(pollLinks(fds, 0, ready), 1, "level-triggered: still ready");
        const got = new FrameBatch(64, 2048);
        let n = 0;
        while (n < 3) n += la.recv(got);
        assert.equal(pollLinks(fds, 0, ready), 0);
      } finally {
        la.close();
        lb.close();
      }
    });
  },
});

Deno.test("poll: a spin woken by a ring's peek still reports the fds without a peek", () => {
  const mon = new LinkMonitor(); // stands in for a ring socket: its peek says a frame waits
  const closed = 1 << 20; // not open: poll(2) reports it (POLLNVAL), so it is "readable"
  setPeek(mon.fd, () => true);
  try {
    const p = new Poller([mon.fd, closed]);
    assert.ok(p.wait(0) > 0, "the first wait finds work, so the next one spins");
    assert.equal(p.wait(50), 2);
    assert.deepEqual([p.ready(0), p.ready(1)], [true, true]);
  } finally {
    setPeek(mon.fd, null);
    mon.close();
  }
});

Deno.test("poll: a spin asks about fds without a peek on its first turn, not every 16th", () => {
  const mon = new LinkMonitor(); // stands in for an idle ring socket
  const closed = 1 << 20; // a TAP with a frame waiting: poll(2) reports it (POLLNVAL)
  let peeks = 0;
  setPeek(mon.fd, () => (peeks++, false));
  try {
    const p = new Poller([mon.fd, closed]);
    assert.ok(p.wait(0) > 0, "the first wait finds work, so the next one spins");
    peeks = 0;
    assert.equal(p.wait(50), 1);
    assert.deepEqual([p.ready(0), p.ready(1)], [false, true]);
    assert.equal(peeks, 1, "found on the first turn");
  } finally {
    setPeek(mon.fd, null);
    mon.close();
  }
});

Deno.test({
  name:
    "wait: a watched netlink monitor fd is polled with the links; its handler runs when it has news",
  ignore: !isRoot("netns for the monitor"),
  async fn() {
    const ns = addNetns(`${uniq()}pw`);
    const mon = new LinkMonitor(ns);
    const seen: string[] = [];
    let calls = 0;
    const watch = {
      fd: mon.fd,
      onReadable: () => (calls++, seen.push(...mon.poll().map((e) => e.name))),
    };
    // No links at all: the waiter's poll set is the watched fd alone.
    const wait = linkWaiter({ links: () => [], linkVersion: 0 }, [watch]);
    try {
      await wait(0); // the first call loads the FFI poller
      await wait(0);
      assert.equal(calls, 0, "nothing announced yet: the handler does not run");
      sh(["ip", "-n", ns, "link", "add", "wv0", "type", "veth", "peer", "name", "wv1"]);
      for (let i = 0; i < 50 && calls === 0; i++) await wait(100);
      assert.ok(calls >= 1, "the announcement woke the wait and ran the handler");
      assert.ok(seen.includes("wv0"), `the handler read the event (saw ${seen})`);
      const before = calls;
      await wait(0);
      assert.equal(calls, before, "drained: no further call");
    } finally {
      mon.close();
      delNetns(ns);
    }
  },
});
