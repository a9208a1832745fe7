// A train (a frame continued by further slots of its batch, `FrameBatch.joins`) leaves a TAP as
// one GSO frame written from several buffers: tshark, capturing inside the zone, sees one TCP
// segment whose bytes are the pieces in order. The capture wrapper shows its taps that frame.
import assert from "node:assert/strict";
import { TapLink } from "../../lib/link/tap.ts";
import { CaptureLink } from "../../lib/link/capture.ts";
import { FrameBatch, HEADROOM } from "../../lib/link/link.ts";
import { buildFrame } from "../../lib/packet/build.ts";
import { VNET } from "../../ffi/layout.ts";
import { haveTshark } from "../vpc/tshark.ts";
import { addNetns, delNetns, isRoot, uniq } from "./netns.ts";

const MSS = 1000, PIECES = [1000, 1000, 600];

/** The whole segment (Ethernet/IPv4/TCP, 54 bytes of headers) with a known payload. */
function segment(): Uint8Array {
  const total = PIECES.reduce((a, b) => a + b, 0);
  const data = new Uint8Array(total).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
  return buildFrame([
    { type: "ethernet", src: "a8:40:25:ff:77:77", dst: "a8:40:25:fa:00:0b" },
    { type: "ipv4", src: "10.84.0.2", dst: "10.84.0.1", id: 9, df: true },
    { type: "tcp", srcPort: 5001, dstPort: 40000, seq: 77, ack: 5, flags: 0x10, window: 900 },
    { type: "payload", data },
  ]);
}

/**
 * A batch holding `f` as a train: slot 0 the headers and the first piece, then one slot per
 * further piece, each at another offset of its own buffer; the header asks for GSO of MSS.
 */
function train(f: Uint8Array): FrameBatch {
  const b = new FrameBatch(4, 8192, { vnet: true, joins: true });
  let at = 0;
  for (let s = 0; s < PIECES.length; s++) {
    const len = (s === 0 ? 54 : 0) + PIECES[s], off = HEADROOM + 3 * s;
    b.bufs[s].set(f.subarray(at, at + len), off);
    b.offs[s] = off;
    b.lens[s] = len;
    at += len;
  }
  b.joins![0] = PIECES.length - 1;
  b.count = PIECES.length;
  // gso TCPV4 (1), hdr_len 54, gso_size, no checksum request: the frame's checksum is whole
  b.vnet!.set([0, 1, 54, 0, MSS & 0xff, MSS >> 8, 0, 0, 0, 0], 0);
  return b;
}

Deno.test({
  name: "tap: a train leaves as one GSO frame, its pieces in order (tshark in the zone)",
  ignore: !isRoot("TAP gather") || !haveTshark,
  async fn() {
    const u = uniq();
    const zone = addNetns(`${u}-tg`);
    try {
      const tap = TapLink.open({
        name: `${u}g`,
        netns: zone,
        offload: VNET.TUN_F_CSUM | VNET.TUN_F_TSO4 | VNET.TUN_F_TSO6,
      });
      const link = new CaptureLink(tap);
      try {
        assert.equal(link.gather, true, "an offloading TAP gathers (through the wrapper)");
        const f = segment();
        const shown: Uint8Array[] = [];
        link.attach((rx, buf, off, len) => {
          if (!rx) shown.push(buf.slice(off, off + len));
        });
        const cap = new Deno.Command("ip", {
          args: [
            ..."netns exec".split(" "),
            zone,
            ..."tshark -l -n -c 1 -a duration:15 -f".split(" "),
            "tcp port 5001",
            "-i",
            tap.name,
            ..."-T fields -e ip.len -e tcp.len -e tcp.seq_raw -e tcp.payload".split(" "),
          ],
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const out = cap.output();
        let done = false;
        out.finally(() => done = true);
        // Until tshark has one: it starts capturing at a time we cannot see.
        let sent = 0;
        while (!done) {
          const b = train(f);
          assert.equal(link.send(b, b.count), PIECES.length, "every slot of the train accepted");
          sent++;
          await new Promise((r) => setTimeout(r, 200));
        }
        const res = await out;
        const row = new TextDecoder().decode(res.stdout).trim().split("\t");
        const payload = f.subarray(54);
        assert.deepEqual(row.slice(0, 3), [String(f.length - 14), String(payload.length), "77"]);
        const hex = Array.from(payload, (x) => x.toString(16).padStart(2, "0")).join("");
        assert.equal(row[3].replaceAll(":", ""), hex, "the pieces' bytes, in order");
        assert.equal(tap.stats.txFrames, sent, "one frame per train");
        assert.equal(tap.stats.txBytes, sent * f.length);
        assert.ok(shown.length === sent && shown.every((s) => s.length === f.length));
        assert.deepEqual(shown[0], f, "the taps see the train as one frame");
      } finally {
        link.close();
      }
    } finally {
      delNetns(zone);
    }
  },
});
