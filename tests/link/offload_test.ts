// Offload end to end through the link layer: a zone on a TAP with TSO (virtio-net headers) and
// a kernel peer behind a packet socket with PACKET_VNET_HDR, bridged frame for frame by a loop
// here. TCP works with the peer's tx checksum offload left on, super-frames cross unsegmented,
// and the rate is printed next to the plain path (no headers, peer offload off).
import assert from "node:assert/strict";
import { TapLink } from "../../lib/link/tap.ts";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch, type Link } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { completeChecksum } from "../../lib/packet/virtio_net.ts";
import { VNET } from "../../ffi/layout.ts";
import { withVeth } from "./conformance.ts";
import { addNetns, delNetns, isRoot, sh, uniq } from "./netns.ts";

/** Forwards frames both ways until `done` settles; returns the largest frame seen. */
async function bridge(x: Link, y: Link, vnet: boolean, done: Promise<unknown>): Promise<number> {
  let finished = false;
  done.finally(() => finished = true);
  const bx = new FrameBatch(64, undefined, { vnet }), by = new FrameBatch(64, undefined, { vnet });
  const p = new Poller([x.fd, y.fd]);
  let biggest = 0, last = performance.now();
  while (!finished) {
    if (p.wait(1) > 0) {
      const nx = x.recv(bx);
      for (let i = 0; i < nx; i++) biggest = Math.max(biggest, bx.lens[i]);
      if (nx) y.send(bx, nx);
      const ny = y.recv(by);
      for (let i = 0; i < ny; i++) biggest = Math.max(biggest, by.lens[i]);
      if (ny) x.send(by, ny);
    }
    if (performance.now() - last > 20) { // let the child-process promise settle
      await new Promise((r) => setTimeout(r, 0));
      last = performance.now();
    }
  }
  return biggest;
}

async function iperf(
  client: string,
  server: string,
  addr: string,
  x: Link,
  y: Link,
  vnet: boolean,
) {
  const srv = new Deno.Command("ip", {
    args: ["netns", "exec", server, "iperf3", "-s", "-1", "-B", addr],
    stdout: "null",
    stderr: "null",
  }).spawn();
  sh(["sleep", "0.3"]);
  const run = new Deno.Command("ip", {
    args: ["netns", "exec", client, "iperf3", "-c", addr, "-t", "2", "-J"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const biggest = await bridge(x, y, vnet, run);
  const r = await run;
  try {
    srv.kill();
  } catch { /* already gone */ }
  await srv.status;
  assert.ok(r.success, new TextDecoder().decode(r.stdout).slice(0, 400));
  const j = JSON.parse(new TextDecoder().decode(r.stdout));
  return { gbps: j.end.sum_received.bits_per_second / 1e9, biggest };
}

Deno.test("vnet: a partial checksum is completed (TCP over IPv4, known answer)", () => {
  // 20-byte IPv4 header + 20-byte TCP header + 4 bytes; the field holds the pseudo-header sum
  const f = new Uint8Array(14 + 44);
  f.set([0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  f.set([0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0, 0, 0, 0], 34);
  f.set([1, 2, 3, 4], 54);
  // pseudo header: 10.0.0.1 + 10.0.0.2 + proto 6 + length 24
  let s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 24;
  s = (s & 0xffff) + (s >>> 16);
  f[34 + 16] = s >> 8;
  f[34 + 17] = s & 0xff;
  assert.ok(completeChecksum(f, 0, f.length, 34, 16));
  // verify: the full sum over pseudo header + segment folds to 0xffff
  let v = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 24;
  for (let i = 34; i < f.length; i += 2) v += (f[i] << 8) | f[i + 1];
  while (v > 0xffff) v = (v & 0xffff) + (v >>> 16);
  assert.equal(v, 0xffff);
  assert.equal(completeChecksum(f, 0, 40, 34, 16), false, "field beyond the frame");
});

Deno.test({
  name: "vnet: TCP from a TSO zone to an offloading kernel peer crosses a bridge of our links",
  ignore: !isRoot("vnet offload") ||
    !sh(["sh", "-c", "command -v iperf3 || true"]).trim(),
  async fn() {
    const u = uniq();
    const zone = addNetns(`${u}-vz`);
    try {
      await withVeth(async (nsA, nsB, a, b) => {
        const results: Record<string, { gbps: number; biggest: number }> = {};
        for (const vnet of [true, false]) {
          const tap = TapLink.open({
            name: `${u}v`,
            netns: zone,
            ...(vnet ? { offload: VNET.TUN_F_CSUM | VNET.TUN_F_TSO4 | VNET.TUN_F_TSO6 } : {}),
          });
          const pkt = PacketLink.open({ netns: nsA, ifname: a, vnetHdr: vnet, promisc: true });
          try {
            sh(["ip", "-n", zone, "addr", "add", "10.82.0.1/24", "dev", tap.name]);
            sh(["ip", "-n", nsB, "addr", "replace", "10.82.0.2/24", "dev", b]);
            // the plain path only works with the peer's checksum offload off (DESIGN pitfall)
            sh(["ip", "netns", "exec", nsB, "ethtool", "-K", b, "tx", vnet ? "on" : "off"], true);
            results[vnet ? "vnet" : "plain"] = await iperf(zone, nsB, "10.82.0.2", tap, pkt, vnet);
          } finally {
            tap.close();
            pkt.close();
          }
          sh(["sleep", "0.2"]);
        }
        console.log(
          `bridge TCP: vnet ${
            results.vnet.gbps.toFixed(2)
          } Gbps (largest frame ${results.vnet.biggest}), plain ${
            results.plain.gbps.toFixed(2)
          } Gbps (largest ${results.plain.biggest})`,
        );
        assert.ok(results.vnet.biggest > 1514, "super-frames crossed whole");
        assert.ok(results.plain.biggest <= 1514, "plain path: MTU frames only");
      });
    } finally {
      delNetns(zone);
    }
  },
});

Deno.test({
  name: "vnet: a consumer without headers gets the zone's partial UDP checksums completed",
  ignore: !isRoot("vnet checksum completion"),
  async fn() {
    const u = uniq();
    const zone = addNetns(`${u}-vc`);
    try {
      const tap = TapLink.open({ name: `${u}c`, netns: zone, offload: VNET.TUN_F_CSUM });
      try {
        assert.equal(tap.vnet, true);
        sh([
          "ip",
          "netns",
          "exec",
          zone,
          "sysctl",
          "-qw",
          `net.ipv6.conf.${tap.name}.disable_ipv6=1`,
        ]);
        sh(["ip", "-n", zone, "addr", "add", "10.83.0.1/24", "dev", tap.name]);
        sh([
          "ip",
          "-n",
          zone,
          "neigh",
          "add",
          "10.83.0.2",
          "lladdr",
          "a8:40:25:ff:77:77",
          "dev",
          tap.name,
        ]);
        const py =
          "import socket\ns = socket.socket(2, 2)\nfor i in range(5): s.sendto(b'offload' * (i + 1), ('10.83.0.2', 9))";
        const r = await new Deno.Command("ip", {
          args: ["netns", "exec", zone, "/usr/bin/python3", "-c", py],
        })
          .output();
        assert.ok(r.success);
        const batch = new FrameBatch(16, 4096); // no vnet slots: the link must finish checksums
        const n = tap.recv(batch);
        let checked = 0;
        for (let i = 0; i < n; i++) {
          const f = batch.bufs[i], o = batch.offs[i];
          if (f[o + 23] !== 17) continue;
          const udpLen = (f[o + 38] << 8) | f[o + 39];
          let s = 0;
          for (let k = 26; k < 34; k += 2) s += (f[o + k] << 8) | f[o + k + 1]; // addresses
          s += 17 + udpLen;
          for (let k = 0; k < udpLen; k += 2) {
            s += (f[o + 34 + k] << 8) | (k + 1 < udpLen ? f[o + 35 + k] : 0);
          }
          while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
          assert.equal(s, 0xffff, `UDP checksum of frame ${i} verifies`);
          checked++;
        }
        assert.equal(checked, 5);
      } finally {
        tap.close();
      }
    } finally {
      delNetns(zone);
    }
  },
});
