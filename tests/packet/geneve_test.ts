import assert from "node:assert/strict";
import { fromHex, toHex } from "../../lib/packet/bytes.ts";
import {
  emitGeneve,
  geneveBufferLen,
  geneveRepr,
  GeneveView,
  oxideExternalOption,
  oxideMssOption,
  oxideMulticastOption,
  parseGeneve,
  scanGeneve,
} from "../../lib/packet/geneve.ts";
import { OXIDE_OPT_EXTERNAL, OXIDE_OPT_MSS, PacketMeta } from "../../lib/packet/meta.ts";

// scapy: GENEVE(vni=1234, options=<oxide external><oxide mss 1400>) followed by an Ethernet frame.
const HDR = "030065580004d200012900000129020100000578";

Deno.test("geneve: deconstruct header and Oxide options", () => {
  const b = fromHex(HDR)!;
  const v = parseGeneve(b, 0, b.length) as GeneveView;
  assert.deepEqual([v.version, v.optLen, v.oam, v.critical, v.protocol, v.vni, v.headerLen], [
    0,
    12,
    false,
    false,
    0x6558,
    1234,
    20,
  ]);
  const m = new PacketMeta();
  assert.equal(scanGeneve(b, 0, m), null);
  assert.deepEqual([m.geneve, m.vni, m.geneveOptLen, m.oxideOpts, m.oxideMss], [
    0,
    1234,
    12,
    OXIDE_OPT_EXTERNAL | OXIDE_OPT_MSS,
    1400,
  ]);
});

Deno.test("geneve: construct with Oxide helpers; repr round-trips", () => {
  const r = { vni: 1234, options: [oxideExternalOption(), oxideMssOption(1400)] };
  const out = new Uint8Array(geneveBufferLen(r));
  emitGeneve(r, out, 0);
  assert.equal(toHex(out), HDR);
  const back = geneveRepr(parseGeneve(out, 0, out.length) as GeneveView);
  assert.deepEqual(back.options!.map((o) => [o.class, o.type, o.critical, toHex(o.data!)]), [
    [0x129, 0, false, ""],
    [0x129, 2, false, "00000578"],
  ]);
  // A critical option sets the C bit; multicast replication sits in the top two bits.
  const c = { vni: 77, options: [oxideMulticastOption(1), { class: 7, type: 3, critical: true }] };
  const o2 = new Uint8Array(geneveBufferLen(c));
  emitGeneve(c, o2, 0);
  assert.equal(toHex(o2), "0340655800004d00" + "0129010140000000" + "00078300");
});

Deno.test("geneve: version, protocol and option lengths are validated", () => {
  const b = fromHex(HDR)!;
  assert.deepEqual(parseGeneve(b, 0, 7), { kind: "truncated", at: "geneve", offset: 0 });
  assert.deepEqual(parseGeneve(b, 0, 19), {
    kind: "truncated",
    at: "geneve.options",
    offset: 8,
  });
  const ver = b.slice();
  ver[0] |= 0x40;
  assert.equal((parseGeneve(ver, 0, ver.length) as { kind: string }).kind, "unsupported");
  const proto = b.slice();
  proto[3] = 0x59;
  assert.deepEqual(parseGeneve(proto, 0, proto.length), {
    kind: "unsupported",
    at: "geneve.protocol",
    offset: 2,
  });
  // The second option claims 8 body bytes but only 4 remain in the option area.
  const over = b.slice();
  over[15] = 2;
  assert.deepEqual(parseGeneve(over, 0, over.length), {
    kind: "malformed",
    at: "geneve.option-length",
    offset: 15,
  });
  // An Oxide MSS option without its 4-byte body.
  const short = fromHex("0200655800000100" + "01290200" + "01290000")!;
  assert.equal(parseGeneve(short, 0, short.length) instanceof GeneveView, true);
  assert.deepEqual(scanGeneve(short, 0, new PacketMeta()), {
    kind: "malformed",
    at: "geneve.oxide-mss",
    offset: 11,
  });
});
