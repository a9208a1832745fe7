// The link tests every real backend must pass (packet socket ring/mmsg, DLPI over the shim):
// run on a veth pair between two throwaway namespaces.
import assert from "node:assert/strict";
import { FrameBatch, type Link } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { parseIpv4, parseIpv6, parseMac } from "../../lib/packet/bytes.ts";
import { addNetns, answer, delNetns, fdTarget, isRoot, sh, stillOpen, uniq } from "./netns.ts";

/** Opens a backend's link on `ifname` inside namespace `netns`. */
export type LinkFactory = (netns: string, ifname: string, o: { promisc: boolean }) => Link;

const ETHERTYPE = 0x88b5; // IEEE local experimental: no stack reacts to it

function carrier(ns: string, dev: string): boolean {
  const j = JSON.parse(sh(["ip", "-n", ns, "-j", "link", "show", "dev", dev])) as {
    flags: string[];
  }[];
  return j[0].flags.includes("LOWER_UP");
}

/** Two namespaces joined by a veth pair a—b, both up with carrier; `fn` gets the names. */
export async function withVeth(
  fn: (nsA: string, nsB: string, a: string, b: string) => Promise<void> | void,
): Promise<void> {
  const u = uniq();
  const nsA = addNetns(`${u}-a`), nsB = addNetns(`${u}-b`);
  const a = `${u}a`, b = `${u}b`;
  try {
    sh(["ip", "link", "add", a, "netns", nsA, "type", "veth", "peer", b, "netns", nsB]);
    sh(["ip", "-n", nsA, "link", "set", a, "up"]);
    sh(["ip", "-n", nsB, "link", "set", b, "up"]);
    const end = Date.now() + 3000; // veth carrier comes up asynchronously (linkwatch)
    while (!(carrier(nsA, a) && carrier(nsB, b)) && Date.now() < end) sh(["sleep", "0.02"]);
    await fn(nsA, nsB, a, b);
  } finally {
    delNetns(nsA);
    delNetns(nsB);
  }
}

/** Writes `n` test frames dst←src with distinct lengths and contents into `batch`. */
export function fill(
  batch: FrameBatch,
  n: number,
  dst: Uint8Array,
  src: Uint8Array,
  tag: number,
): void {
  for (let i = 0; i < n; i++) {
    const f = batch.bufs[i], o = batch.offs[i];
    const len = 60 + (i % 7) * 100;
    f.set(dst, o);
    f.set(src, o + 6);
    f[o + 12] = ETHERTYPE >> 8;
    f[o + 13] = ETHERTYPE & 0xff;
    for (let j = 14; j < len; j++) f[o + j] = (tag + i * 31 + j) & 0xff;
    batch.lens[i] = len;
  }
}

/** Receives on `link` until `want` test frames arrived or 2 s pass; returns copies. */
export function collect(link: Link, want: number): Uint8Array[] {
  const got: Uint8Array[] = [];
  const batch = new FrameBatch(64, 4096);
  const poller = new Poller([link.fd]);
  const end = Date.now() + 2000;
  while (got.length < want && Date.now() < end) {
    poller.wait(20);
    const n = link.recv(batch);
    for (let i = 0; i < n; i++) {
      const f = batch.bufs[i].subarray(batch.offs[i], batch.offs[i] + batch.lens[i]);
      if (((f[12] << 8) | f[13]) === ETHERTYPE) got.push(f.slice());
    }
  }
  return got;
}

/** Registers the shared link tests for one backend. */
export function linkConformance(label: string, open: LinkFactory, ignore = false): void {
  const skip = ignore || !isRoot(`${label} link tests`);
  Deno.test({
    name: `${label}: 200 frames sent in batches arrive intact and in order; fds released`,
    ignore: skip,
    async fn() {
      let targets: string[] = [];
      await withVeth((nsA, nsB, a, b) => {
        const la = open(nsA, a, { promisc: false });
        const lb = open(nsB, b, { promisc: false });
        targets = [fdTarget(la.fd), fdTarget(lb.fd)];
        try {
          assert.ok(la.isUp() && lb.isUp());
          assert.equal(la.mac.length, 6);
          assert.ok(la.mtu >= 1500 && la.fd >= 0);
          const out = new FrameBatch(100, 2048);
          const sent: Uint8Array[] = [];
          for (const tag of [1, 2]) {
            fill(out, 100, lb.mac, la.mac, tag);
            assert.equal(la.send(out, 100), 100);
            for (let i = 0; i < 100; i++) {
              sent.push(out.bufs[i].slice(out.offs[i], out.offs[i] + out.lens[i]));
            }
          }
          const got = collect(lb, 200);
          if (label.includes("ring")) {
            const maps = Deno.readTextFileSync("/proc/self/maps");
            assert.ok(maps.includes(targets[1]), "ring is mapped");
          }
          assert.equal(got.length, 200);
          for (let i = 0; i < 200; i++) assert.deepEqual(got[i], sent[i], `frame ${i}`);
          assert.equal(la.stats.txFrames, 200);
          assert.ok(lb.stats.rxFrames >= 200);
          fill(out, 3, la.mac, lb.mac, 9);
          for (let i = 0; i < 3; i++) {
            assert.ok(lb.sendFrame(out.bufs[i], out.offs[i], out.lens[i]));
          }
          const back = collect(la, 3);
          assert.deepEqual(back[2], out.bufs[2].slice(out.offs[2], out.offs[2] + out.lens[2]));
        } finally {
          la.close();
          lb.close();
          la.close(); // idempotent
        }
        assert.equal(la.isUp(), false, "closed link reports down");
        const after = new FrameBatch(2, 256);
        assert.equal(la.recv(after), 0, "recv after close is empty, not an error");
        assert.equal(la.sendFrame(after.bufs[0], after.offs[0], 60), false);
      });
      assert.deepEqual(stillOpen(targets), [], "sockets closed and rings unmapped");
    },
  });

  Deno.test({
    name: `${label}: the peer's kernel stack pings (v4, v6) a promiscuous sink behind the link`,
    ignore: skip,
    async fn() {
      await withVeth(async (nsA, nsB, a, b) => {
        sh(["ip", "-n", nsB, "addr", "add", "10.78.0.2/24", "dev", b]);
        sh(["ip", "-n", nsB, "addr", "add", "fd00:78::2/64", "dev", b, "nodad"]);
        const promiscuity = () =>
          (JSON.parse(sh(["ip", "-n", nsA, "-d", "-j", "link", "show", "dev", a])) as {
            promiscuity: number;
          }[])[0].promiscuity;
        assert.equal(promiscuity(), 0);
        const link = open(nsA, a, { promisc: true });
        // veth does not filter by MAC, so promiscuity is checked on the device itself
        assert.equal(promiscuity(), 1, "membership made the device promiscuous");
        try {
          const mac = parseMac("a8:40:25:00:00:01")!; // not a's MAC
          const ip4 = parseIpv4("10.78.0.1")!, ip6 = parseIpv6("fd00:78::1")!;
          const ping = new Deno.Command("ip", {
            args: [
              "netns",
              "exec",
              nsB,
              "sh",
              "-c",
              "ping -c 2 -i 0.2 -W 2 10.78.0.1 && ping -c 2 -i 0.2 -W 2 fd00:78::1",
            ],
            stdout: "piped",
            stderr: "piped",
          }).output();
          let done = false;
          ping.finally(() => done = true);
          const batch = new FrameBatch(32, 4096);
          const poller = new Poller([link.fd]);
          let answered = 0;
          while (!done) {
            if (poller.wait(5) > 0) {
              const n = link.recv(batch);
              for (let i = 0; i < n; i++) {
                const f = batch.bufs[i].subarray(batch.offs[i]);
                const len = answer(f, batch.lens[i], mac, ip4, ip6);
                if (len && link.sendFrame(batch.bufs[i], batch.offs[i], len)) answered++;
              }
            }
            await new Promise((r) => setTimeout(r, 0));
          }
          const r = await ping;
          assert.ok(
            r.success,
            new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
          );
          assert.ok(answered >= 6, `answered ${answered}`); // ARP + 2 echo, NS + 2 echo
        } finally {
          link.close();
        }
        assert.equal(promiscuity(), 0, "and close dropped the membership");
      });
    },
  });
}
