// Per-packet cost of the wire layer: parse, flow id, and an incremental checksum rewrite.
// Run: deno bench -A tests/bench/packet_bench.ts
import { buildFrame } from "../../lib/packet/build.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { flowOf, parseFrame } from "../../lib/packet/parse.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { rewriteIpAddr, rewriteSrcPort } from "../../lib/packet/checksum.ts";
import { oxideExternalOption, oxideMssOption } from "../../lib/packet/geneve.ts";
import { copyBytes } from "../../lib/packet/bytes.ts";
import { FrameBatch } from "../../lib/link/link.ts";

const E = { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" } as const;
const TCP = {
  type: "tcp",
  srcPort: 40000,
  dstPort: 443,
  flags: "PA",
  seq: 1,
  ack: 1,
} as const;
const PAYLOAD = { type: "payload", data: new Uint8Array(64) } as const;

const plain = buildFrame([E, { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8" }, TCP, PAYLOAD]);
const encap = buildFrame([
  E,
  { type: "ipv6", src: "fd00:1::1", dst: "fd00:2::1" },
  { type: "udp", srcPort: 50123, checksum: "zero" },
  { type: "geneve", vni: 1234, options: [oxideExternalOption(), oxideMssOption(1400)] },
  E,
  { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.20" },
  TCP,
  PAYLOAD,
]);

const meta = new PacketMeta();
const flow = new FlowId();
let sink = 0;

Deno.bench("parse eth/ipv4/tcp", () => {
  if (parseFrame(plain, 0, plain.length, meta) !== null) throw new Error("plain frame: parse");
  sink += meta.outer.dstPort;
});

Deno.bench("parse eth/ipv6/udp/geneve/eth/ipv4/tcp", () => {
  if (parseFrame(encap, 0, encap.length, meta) !== null) throw new Error("geneve frame: parse");
  sink += meta.inner.dstPort;
});

const flowMeta = new PacketMeta();
parseFrame(encap, 0, encap.length, flowMeta);
Deno.bench("flowOf", () => {
  if (!flowOf(encap, flowMeta.inner, flow)) throw new Error("flowOf: no flow");
  sink += flow.w[9];
});

// SNAT-like rewrite: source address and port, IPv4 header + TCP checksum patched in place.
const natFrame = plain.slice();
const natMeta = new PacketMeta();
parseFrame(natFrame, 0, natFrame.length, natMeta);
const addrs = [Uint8Array.of(203, 0, 113, 9), Uint8Array.of(10, 0, 0, 5)];
let flip = 0;
Deno.bench("incremental checksum rewrite", () => {
  flip ^= 1;
  rewriteIpAddr(natFrame, natMeta.outer, false, addrs[flip], 0);
  rewriteSrcPort(natFrame, natMeta.outer, flip ? 1024 : 40000);
});

Deno.bench("parse sink", { ignore: true }, () => {
  if (sink === -1) console.error(sink);
});

// Frame-to-frame copies: a merged segment's payload (GRO), a large-segment piece (segmentation).
const src = new FrameBatch(1, 65536 + 256).bufs[0], dst = new FrameBatch(1, 65536 + 256).bufs[0];
for (const n of [64, 1448, 8192, 65000]) {
  Deno.bench(`copyBytes ${n} B between frame buffers`, { group: "copy" }, () => {
    copyBytes(src, 7, dst, 3, n);
    sink += dst[3];
  });
}
