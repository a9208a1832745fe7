// Frames from the wire with a complete TCP checksum are checked before a GSO frame's partial
// checksum replaces theirs (a large segment delivered whole, a segment heading or joining a
// train): the receiving guest never checks them again, offload or not. A bad one is not merged
// and nothing joins it. The checksums here are written by the test's own RFC 1071 routine.
import assert from "node:assert/strict";
import { FrameBatch, HEADROOM, type Link } from "../../lib/link/link.ts";
import { buildFrame } from "../../lib/packet/build.ts";
import { checkedForTrain, coalesce, queueGso } from "../../lib/switch/coalesce.ts";
import { TxQueue } from "../../lib/switch/txq.ts";

const MSS = 1448;

/** RFC 1071 checksum of the IPv4/TCP frame `f` written into its TCP header (test's own code). */
function tcpChecksum(f: Uint8Array): Uint8Array {
  const l3 = 14, l4 = 34, end = l3 + ((f[l3 + 2] << 8) | f[l3 + 3]);
  f[l4 + 16] = f[l4 + 17] = 0;
  let s = 6 + (end - l4);
  for (let j = l3 + 12; j < l3 + 20; j += 2) s += (f[j] << 8) | f[j + 1];
  for (let j = l4; j < end; j += 2) s += (f[j] << 8) | (j + 1 < end ? f[j + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  f[l4 + 16] = c >> 8;
  f[l4 + 17] = c & 0xff;
  return f;
}

/** A segment of the test flow with `n` payload bytes at `seq`, its checksum complete. */
function seg(seq: number, n: number, flags = 0x10): Uint8Array {
  const data = new Uint8Array(n).map((_, i) => (seq + i * 7) & 0xff);
  return tcpChecksum(buildFrame([
    { type: "ethernet", src: "a8:40:25:ff:77:77", dst: "a8:40:25:fa:00:0b" },
    { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.11", id: seq & 0xffff, df: true },
    { type: "tcp", srcPort: 5201, dstPort: 40000, seq, ack: 5, flags, window: 900 },
    { type: "payload", data },
  ]));
}

/** The same frame with one payload byte flipped (its checksum no longer matches). */
function damaged(f: Uint8Array): Uint8Array {
  const g = f.slice();
  g[g.length - 3] ^= 0x40;
  return g;
}

/** A queue towards a link that takes GSO (`vnet`), and a one-slot receive batch. */
function queue(vnet = true) {
  const link = { vnet, name: "vm", gather: false } as unknown as Link;
  const tx = new TxQueue(link, 8, 65536 + HEADROOM, true);
  const rx = new FrameBatch(1, 65536 + HEADROOM, { vnet: true });
  const load = (f: Uint8Array) => {
    rx.bufs[0].set(f, HEADROOM);
    return rx.bufs[0];
  };
  return { tx, rx, load };
}

/** What the switch's overlay path does with frame `f` from the wire (complete checksum). */
function deliver(q: ReturnType<typeof queue>, f: Uint8Array): boolean {
  const buf = q.load(f);
  const joins = checkedForTrain(q.tx, buf, HEADROOM, f.length);
  if (joins && coalesce(q.tx, buf, HEADROOM, f.length, 0, q.rx, 0)) return true;
  q.tx.push(q.rx, 0, HEADROOM, f.length);
  if (!joins) q.tx.seal();
  return false;
}

Deno.test("gso checked: a damaged segment is not merged, and nothing joins it", () => {
  const q = queue();
  const a = seg(1000, MSS), b = damaged(seg(1000 + MSS, MSS)), c = seg(1000 + 2 * MSS, MSS);
  assert.equal(deliver(q, a), false, "the head is queued");
  assert.equal(deliver(q, b), false, "the damaged segment travels alone");
  assert.equal(deliver(q, c), false, "nothing joins the damaged segment");
  assert.equal(q.tx.batch.count, 3);
  const b1 = q.tx.batch;
  assert.deepEqual(b1.bufs[1].slice(b1.offs[1], b1.offs[1] + b1.lens[1]), b, "left as sent");
  assert.deepEqual(b1.vnet!.slice(10, 20), new Uint8Array(10), "no partial checksum on it");
});

Deno.test("gso checked: a damaged head takes no train", () => {
  const q = queue();
  assert.equal(deliver(q, damaged(seg(1000, MSS))), false);
  assert.equal(deliver(q, seg(1000 + MSS, MSS)), false, "not appended to the damaged head");
  assert.equal(q.tx.batch.count, 2);
});

Deno.test("gso checked: intact segments form a train (GSO frame, partial checksum)", () => {
  const q = queue();
  assert.equal(deliver(q, seg(1000, MSS)), false);
  assert.equal(deliver(q, seg(1000 + MSS, MSS)), true);
  assert.equal(deliver(q, seg(1000 + 2 * MSS, 100, 0x18)), true);
  assert.equal(q.tx.batch.count, 1);
  const h = q.tx.batch.vnet!.slice(0, 10);
  assert.deepEqual([h[0], h[1], h[4] | (h[5] << 8)], [1, 1, MSS], "NEEDS_CSUM, TCPV4, MSS");
});

Deno.test("gso checked: towards a link without headers nothing is checked or merged", () => {
  const q = queue(false);
  const buf = q.load(damaged(seg(1000, MSS)));
  assert.equal(checkedForTrain(q.tx, buf, HEADROOM, 54 + MSS), true);
});

Deno.test("gso checked: a large segment with a complete checksum goes whole only when intact", () => {
  const big = seg(1000, 6 * MSS);
  for (
    const [f, partial, want] of [
      [big, false, true],
      [damaged(big), false, false],
      // partial: the field holds no checksum yet, nothing to check (the kernel computes it)
      [damaged(big), true, true],
    ] as const
  ) {
    const q = queue();
    q.load(f);
    assert.equal(queueGso(q.tx, q.rx, 0, HEADROOM, f.length, MSS, partial), want);
    assert.equal(q.tx.batch.count, want ? 1 : 0);
  }
});
