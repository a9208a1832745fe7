// TPACKET_V2 receive ring: slot geometry, wrap-around across blocks with unused block tails,
// a lone frame readable at once (the point of V2 over V3), and the spinning Poller's peeks.
import assert from "node:assert/strict";
import * as fc from "fast-check";
import { frameRingGeometry } from "../../lib/link/tpacket2.ts";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller, setPeek } from "../../lib/link/poll.ts";
import { spinTuning } from "../../lib/link/spin.ts";
import { C } from "../../ffi/layout.ts";
import { collect, fill, withVeth } from "./conformance.ts";
import { isRoot, sh } from "./netns.ts";

/** Turns IPv6 off on both veth ends, so no router solicitation or MLD report lands in a test. */
function quiet(nsA: string, nsB: string, a: string, b: string): void {
  for (const [ns, d] of [[nsA, a], [nsB, b]]) {
    sh(["ip", "netns", "exec", ns, "sysctl", "-qw", `net.ipv6.conf.${d}.disable_ipv6=1`]);
  }
}

Deno.test("tpacket2 geometry: slots hold the frame, tile page-multiple blocks, and suffice", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 60, max: 70000 }),
      fc.integer({ min: 1, max: 20000 }),
      fc.boolean(),
      (maxFrame, frames, vnet) => {
        const g = frameRingGeometry(maxFrame, frames, vnet);
        const per = Math.floor(g.blockSize / g.frameSize);
        assert.equal(g.frameSize % 16, 0, "TPACKET_ALIGNMENT");
        // tpacket2_hdr (32) + sockaddr_ll (20) + the kernel's 16-byte alignment of the net header
        assert.ok(g.frameSize >= maxFrame + 32 + 20 + 16 + (vnet ? 10 : 0));
        assert.equal(g.blockSize % 4096, 0, "page multiple");
        assert.ok(per >= 1);
        assert.ok(per * g.blockCount >= frames && per * (g.blockCount - 1) < frames);
      },
    ),
  );
  // an MTU 1500 slot is not rounded up to 2048
  const g = frameRingGeometry(1518, 8192, false);
  assert.deepEqual(g, { frameSize: 1616, blockSize: 65536, blockCount: 205 });
});

Deno.test({
  name: "tpacket2: 210 frames through a 50-slot ring with 4 KiB blocks arrive intact, in order",
  ignore: !isRoot("tpacket2 wrap"),
  async fn() {
    await withVeth((nsA, nsB, a, b) => {
      // 1616-byte slots: two per 4 KiB block and an 864-byte unused tail in every block
      const lb = PacketLink.open({
        netns: nsB,
        ifname: b,
        rx: "ring",
        ringFrames: 50,
        blockSize: 4096,
      });
      const la = PacketLink.open({ netns: nsA, ifname: a });
      try {
        const out = new FrameBatch(30, 2048);
        for (let round = 0; round < 7; round++) {
          fill(out, 30, lb.mac, la.mac, round);
          assert.equal(la.send(out, 30), 30);
          const got = collect(lb, 30);
          assert.equal(got.length, 30, `round ${round}`);
          for (let i = 0; i < 30; i++) {
            const want = out.bufs[i].subarray(out.offs[i], out.offs[i] + out.lens[i]);
            assert.deepEqual(got[i], want, `round ${round} frame ${i}`);
          }
        }
        assert.equal(lb.kernelDrops(), 0);
      } finally {
        la.close();
        lb.close();
      }
    });
  },
});

/** How many of `tries` lone frames the receiver's poll(…, 0) saw right after the send. */
function readableAtOnce(rx: "ring" | "ring3", tries: number): Promise<number> {
  let seen = 0;
  return withVeth((nsA, nsB, a, b) => {
    quiet(nsA, nsB, a, b);
    const lb = PacketLink.open({ netns: nsB, ifname: b, rx });
    const la = PacketLink.open({ netns: nsA, ifname: a, qdiscBypass: true });
    const spin = spinTuning.minUs;
    spinTuning.minUs = 0;
    try {
      const out = new FrameBatch(1, 256), inb = new FrameBatch(64, 2048);
      const p = new Poller([lb.fd]);
      for (let i = 0; i < tries; i++) {
        fill(out, 1, lb.mac, la.mac, i);
        la.send(out, 1);
        if (p.wait(0) > 0) seen++;
        // drain before the next try (V3 hands the block over when its timer retires it)
        for (const end = Date.now() + 50; Date.now() < end;) {
          if (p.wait(5) > 0 && lb.recv(inb)) break;
        }
      }
    } finally {
      spinTuning.minUs = spin;
      la.close();
      lb.close();
    }
  }).then(() => seen);
}

Deno.test({
  name: "tpacket2: a lone frame wakes poll at once, where a V3 ring waits for its block timer",
  ignore: !isRoot("tpacket2 wake-up"),
  async fn() {
    // veth delivers inside the sender's sendmmsg, so the frame is in the ring when it returns
    const v2 = await readableAtOnce("ring", 20);
    const v3 = await readableAtOnce("ring3", 20);
    assert.ok(v2 >= 18, `V2: ${v2}/20 readable at once`);
    assert.ok(v3 <= 5, `V3: ${v3}/20 readable at once`);
  },
});

Deno.test({
  name: "poll spin: after traffic, a wait returns on a peek without sleeping, else times out",
  ignore: !isRoot("poll spin"),
  async fn() {
    await withVeth((nsA, nsB, a, b) => {
      quiet(nsA, nsB, a, b);
      const lb = PacketLink.open({ netns: nsB, ifname: b });
      const la = PacketLink.open({ netns: nsA, ifname: a });
      const spin = spinTuning.minUs;
      try {
        const p = new Poller([lb.fd]);
        const out = new FrameBatch(1, 256), inb = new FrameBatch(8, 2048);
        fill(out, 1, lb.mac, la.mac, 1);
        la.send(out, 1);
        assert.equal(p.wait(1000), 1, "the ring's peek or poll sees the frame");
        assert.ok(lb.recv(inb) >= 1);
        while (lb.recv(inb) > 0); // and anything the stack sent before IPv6 went off
        // the socket is empty now: only the peek can make the next wait ready
        let calls = 0;
        setPeek(lb.fd, () => ++calls >= 5);
        spinTuning.minUs = 200_000;
        const t = performance.now();
        assert.equal(p.wait(1000), 1);
        assert.ok(performance.now() - t < 150, "returned from the spin, not the timeout");
        assert.equal(calls, 5);
        assert.equal(p.revents(0), C.POLLIN);
        // a spin that finds nothing ends in the real poll and its timeout
        setPeek(lb.fd, () => false);
        spinTuning.minUs = 2000;
        const t2 = performance.now();
        assert.equal(p.wait(40), 0);
        assert.ok(performance.now() - t2 >= 38);
        // no spin once a wait came back empty
        calls = 0;
        setPeek(lb.fd, () => ++calls > 0);
        assert.equal(p.wait(20), 0);
        assert.equal(calls, 0);
      } finally {
        spinTuning.minUs = spin;
        la.close();
        lb.close();
      }
    });
  },
});

/** An IPv4/TCP frame of `payload` bytes src→dst (checksums left to the offload). */
function tcpFrame(dst: Uint8Array, src: Uint8Array, payload: number): Uint8Array {
  const f = new Uint8Array(54 + payload);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  const ip = 14, tcp = 34;
  f[ip] = 0x45;
  f[ip + 2] = (20 + 20 + payload) >> 8;
  f[ip + 3] = (20 + 20 + payload) & 0xff;
  f[ip + 8] = 64;
  f[ip + 9] = 6;
  f.set([10, 83, 0, 1, 10, 83, 0, 2], ip + 12);
  f.set([0x9c, 0x40, 0x14, 0x51], tcp); // 40000 → 5201
  f[tcp + 12] = 0x50;
  f[tcp + 13] = 0x18;
  f[tcp + 14] = 0xff;
  for (let i = 0; i < payload; i++) f[54 + i] = (i * 7) & 0xff;
  return f;
}

Deno.test({
  name: "tpacket2: a TSO super-frame too big for a slot arrives whole with its virtio-net header",
  ignore: !isRoot("tpacket2 copy path"),
  async fn() {
    await withVeth((nsA, nsB, a, b) => {
      quiet(nsA, nsB, a, b);
      const la = PacketLink.open({ netns: nsA, ifname: a, vnetHdr: true, promisc: true });
      const lb = PacketLink.open({ netns: nsB, ifname: b, vnetHdr: true });
      try {
        // one 10054-byte frame: the sender's kernel keeps it whole (veth does TSO), so the ring
        // slot (1632 B) cannot hold it and the kernel queues it for the copy path
        const out = new FrameBatch(1, undefined, { vnet: true });
        const frame = tcpFrame(la.mac, lb.mac, 10000);
        out.bufs[0].set(frame, out.offs[0]);
        out.lens[0] = frame.length;
        const h = new DataView(out.vnet!.buffer);
        h.setUint8(0, 1); // NEEDS_CSUM
        h.setUint8(1, 1); // GSO_TCPV4
        h.setUint16(2, 54, true);
        h.setUint16(4, 1448, true);
        h.setUint16(6, 34, true);
        h.setUint16(8, 16, true);
        assert.equal(lb.send(out, 1), 1);
        const inb = new FrameBatch(8, undefined, { vnet: true });
        const p = new Poller([la.fd]);
        let n = 0;
        for (const end = Date.now() + 2000; n === 0 && Date.now() < end;) {
          if (p.wait(50) <= 0) continue;
          n = la.recv(inb);
          // skip what the stack sent before IPv6 went off
          if (n === 1 && inb.lens[0] < 1000) n = 0;
        }
        assert.equal(n, 1);
        assert.equal(inb.lens[0], frame.length);
        const got = inb.bufs[0].subarray(inb.offs[0], inb.offs[0] + inb.lens[0]);
        assert.deepEqual(got.subarray(54), frame.subarray(54), "payload intact");
        const gh = new DataView(inb.vnet!.buffer);
        assert.equal(gh.getUint8(1), 1, "gso_type TCPV4");
        assert.equal(gh.getUint16(4, true), 1448, "gso_size");
        assert.equal(la.stats.rxErrors, 0);
      } finally {
        la.close();
        lb.close();
      }
    });
  },
});
