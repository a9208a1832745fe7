// A UDP_L4 GSO frame cut into its datagrams for a consumer without virtio-net headers
// (lib/link/uso_rx.ts): each datagram behind a copy of the headers, its own lengths and a
// complete UDP checksum, handed out across batches. tshark checks the checksums.
import assert from "node:assert/strict";
import { FrameBatch, HEADROOM, newLinkStats } from "../../lib/link/link.ts";
import { UdpL4Pieces } from "../../lib/link/uso_rx.ts";
import { haveTshark, tsharkFields } from "../vpc/tshark.ts";

const GSO = 1000;
/** Ethernet + IPv6 + UDP 5000→6081 around `body` bytes (UDP checksum: anything). */
function frame(body: number): Uint8Array {
  const f = new Uint8Array(62 + body);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60], 0);
  f[18] = (8 + body) >> 8, f[19] = (8 + body) & 0xff, f[20] = 17, f[21] = 64;
  f.set([0xfd, 0, 0, 1], 22), f[37] = 1, f.set([0xfd, 0, 0, 2], 38), f[53] = 1;
  f.set([0x13, 0x88, 0x17, 0xc1, (8 + body) >> 8, (8 + body) & 0xff, 0x12, 0x34], 54);
  for (let i = 62; i < f.length; i++) f[i] = (i * 31) & 0xff;
  return f;
}
const hdr = (gso: number) => Uint8Array.of(1, 5, 62, 0, gso & 0xff, gso >> 8, 54, 0, 6, 0);

Deno.test("uso rx: a UDP_L4 frame becomes datagrams with their own lengths and checksums, across batches", async (t) => {
  const p = new UdpL4Pieces(), f = frame(2 * GSO + 300), stats = newLinkStats();
  p.buf.set(f);
  assert.ok(p.load(hdr(GSO), 0, f.length));
  const b = new FrameBatch(2, 4096), got: Uint8Array[] = [];
  for (let round = 0; round < 2; round++) {
    const n = p.drain(b, 0, stats);
    for (let i = 0; i < n; i++) got.push(b.bufs[i].slice(HEADROOM, HEADROOM + b.lens[i]));
  }
  assert.equal(p.pending, false);
  assert.deepEqual(got.map((d) => d.length), [62 + GSO, 62 + GSO, 62 + 300]);
  got.forEach((d, k) => {
    const l = d.length - 54;
    assert.equal(d[18] * 256 + d[19], l, `IPv6 payload length ${k}`);
    assert.equal(d[58] * 256 + d[59], l, `UDP length ${k}`);
    assert.deepEqual(d.subarray(62), f.subarray(62 + k * GSO, 62 + k * GSO + l - 8));
  });
  await t.step({
    name: "tshark: every UDP checksum is good",
    ignore: !haveTshark && !Deno.env.get("CI"),
    async fn() {
      const rows = await tsharkFields(got, ["udp.checksum.status"]);
      assert.deepEqual(rows, [["1"], ["1"], ["1"]]);
    },
  });
});

Deno.test("uso rx: frames that are not UDP_L4 or whose lengths disagree are not taken", () => {
  const p = new UdpL4Pieces(), f = frame(2500);
  p.buf.set(f);
  assert.equal(p.load(Uint8Array.of(1, 4, 0, 0, 0xe8, 3, 54, 0, 6, 0), 0, f.length), false);
  assert.equal(p.load(hdr(0), 0, f.length), false, "gso_size 0");
  assert.equal(p.load(hdr(GSO), 0, f.length - 1), false, "lengths disagree");
  assert.equal(p.load(hdr(30), 0, f.length), false, "more than 64 datagrams");
  assert.equal(p.pending, false);
  // datagrams larger than the consumer's buffers are dropped, counted
  assert.ok(p.load(hdr(2000), 0, f.length));
  const stats = newLinkStats();
  assert.equal(p.drain(new FrameBatch(4, 1024), 0, stats), 0);
  assert.equal(stats.rxErrors, 1);
  assert.equal(p.pending, false);
});
