import assert from "node:assert/strict";
import { FrameBatch, HEADROOM, type Link } from "../../lib/link/link.ts";
import { completeChecksum } from "../../lib/packet/virtio_net.ts";
import { buildFrame } from "../../lib/packet/build.ts";
import { coalesce } from "../../lib/switch/coalesce.ts";
import { TxQueue } from "../../lib/switch/txq.ts";

/** A TCP segment of the test flow (IPv4 or IPv6) with `n` payload bytes at `seq`. */
function seg(seq: number, n: number, o: { flags?: number; v6?: boolean; sport?: number } = {}) {
  const data = new Uint8Array(n).map((_, i) => (seq + i) & 0xff);
  return buildFrame([
    { type: "ethernet", src: "a8:40:25:ff:77:77", dst: "a8:40:25:fa:00:0b" },
    o.v6
      ? { type: "ipv6", src: "fd00:10::1", dst: "fd00:10::2", hopLimit: 64 }
      : { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.11", id: seq & 0xffff, df: true },
    {
      type: "tcp",
      srcPort: o.sport ?? 5201,
      dstPort: 40000,
      seq,
      ack: 5,
      flags: o.flags ?? 0x10,
      window: 900,
    },
    { type: "payload", data },
  ]);
}

/**
 * Offers `frames` in order to a queue of a link with (or without) headers; returns what the
 * link would be handed, a train (`gather`: slots joined, not copied) put together as one frame.
 */
function offer(frames: Uint8Array[], vnet = true, gather = false) {
  const link = { vnet, name: "vm", gather } as unknown as Link;
  const tx = new TxQueue(link, 8, 65536 + HEADROOM, true);
  const rx = new FrameBatch(1, 65536 + HEADROOM, { vnet: true });
  const merged: boolean[] = [];
  for (const f of frames) {
    rx.bufs[0].set(f, HEADROOM);
    const ok = coalesce(tx, rx.bufs[0], HEADROOM, f.length, 0, gather ? rx : null, 0);
    merged.push(ok);
    if (!ok) tx.push(rx, 0, HEADROOM, f.length);
  }
  const b = tx.batch;
  const heads = [];
  for (let k = 0; k < b.count; k += 1 + (b.joins?.[k] ?? 0)) heads.push(k);
  assert.equal(b.joins !== null, gather, "slots are joined only towards a link that gathers");
  const out = heads.map((k) => {
    const parts = [];
    for (let s = k; s <= k + (b.joins?.[k] ?? 0); s++) {
      parts.push(...b.bufs[s].slice(b.offs[s], b.offs[s] + b.lens[s]));
    }
    const f = new Uint8Array(parts);
    const h = b.vnet!.slice(k * 10, k * 10 + 10);
    // Finish a partial checksum as the receiving kernel would trust it to be.
    if (h[0] & 1) completeChecksum(f, 0, f.length, h[6], h[8]);
    return { f, h };
  });
  return { merged, out, slots: b.count };
}

for (const [v6, gather] of [[false, false], [true, false], [false, true], [true, true]]) {
  const how = `${v6 ? "IPv6" : "IPv4"}${gather ? ", gathered" : ""}`;
  Deno.test(`coalesce: in-order ${how} segments become one GSO frame`, () => {
    const { merged, out, slots } = offer(
      [
        seg(1000, 500, { v6 }),
        seg(1500, 500, { v6 }),
        seg(2000, 300, { v6, flags: 0x18 }),
      ],
      true,
      gather,
    );
    assert.deepEqual(merged, [false, true, true]);
    assert.equal(out.length, 1);
    // Gathered: the segments' buffers follow the first frame instead of being copied into it.
    assert.equal(slots, gather ? 3 : 1);
    // The whole stream in one frame, as a single segment with the last one's PSH.
    const whole = seg(1000, 1300, { v6, flags: 0x18 });
    assert.deepEqual(out[0].f, whole);
    const l4 = v6 ? 54 : 34;
    assert.deepEqual(Array.from(out[0].h), [
      1,
      v6 ? 4 : 1,
      l4 + 20,
      0,
      500 & 0xff,
      500 >> 8,
      l4,
      0,
      16,
      0,
    ]);
  });
}

for (const gather of [false, true]) {
  Deno.test(`coalesce: what must stay apart does${gather ? " (gathered)" : ""}`, () => {
    const cases: [string, Uint8Array[], boolean][] = [
      ["a gap in sequence", [seg(1000, 500), seg(1600, 500)], false],
      ["another flow", [seg(1000, 500), seg(1500, 500, { sport: 7 })], false],
      ["after PSH", [seg(1000, 500, { flags: 0x18 }), seg(1500, 500)], false],
      ["a FIN", [seg(1000, 500), seg(1500, 500, { flags: 0x11 })], false],
      ["bigger than the first segment", [seg(1000, 500), seg(1500, 600)], false],
      ["IPv4 then IPv6", [seg(1000, 500), seg(1500, 500, { v6: true })], false],
    ];
    for (const [what, frames] of cases) {
      const { merged, out } = offer(frames, true, gather);
      assert.deepEqual(merged, [false, false], what);
      assert.deepEqual(out.map((o) => o.f), frames, what);
      assert.deepEqual(out.map((o) => Array.from(o.h)), frames.map(() => Array(10).fill(0)), what);
    }
    const { merged } = offer([seg(1000, 500), seg(1500, 500)], false, gather);
    assert.deepEqual(merged, [false, false], "a link without headers gets segments");
    // After a short segment, the train is over.
    assert.deepEqual(offer([seg(1000, 500), seg(1500, 200), seg(1700, 200)], true, gather).merged, [
      false,
      true,
      false,
    ]);
  });
}
