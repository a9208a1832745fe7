// Run by alloc_test.ts in a child Deno with a large young generation, so no scavenge hides
// allocations: prints bytes of heap growth per fast-path packet for encap and decap.

import { DIR_IN, DIR_OUT, RES_MODIFIED } from "../../lib/engine/mod.ts";
import { guestUdp, Replay, underlayReply, vpcLikePort } from "./fixtures.ts";

const port = vpcLikePort();
const out = new Replay(guestUdp(64));
const back = new Replay(underlayReply(64));
const tcpOut = new Replay([
  { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" },
  { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" },
  { type: "tcp", srcPort: 40001, dstPort: 80, flags: "A", seq: 1, ack: 1 },
  { type: "payload", data: new Uint8Array(64) },
]);
const N = 200_000;

function perPacket(dir: 0 | 1, r: Replay): number {
  for (let i = 0; i < 50_000; i++) {
    if (port.process(dir, r.rewind()) !== RES_MODIFIED || !port.result.fastPath) {
      throw new Error(`not a fast-path hit: ${port.result.reason}`);
    }
  }
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) port.process(dir, r.rewind());
  return (Deno.memoryUsage().heapUsed - before) / N;
}

// A frame per direction first, so both UFT entries exist.
port.process(DIR_OUT, out.rewind());
port.process(DIR_IN, back.rewind());
port.process(DIR_OUT, tcpOut.rewind());
console.log(JSON.stringify({
  warm: perPacket(DIR_OUT, out),
  encap: perPacket(DIR_OUT, out),
  decap: perPacket(DIR_IN, back),
  tcp: perPacket(DIR_OUT, tcpOut),
}));
