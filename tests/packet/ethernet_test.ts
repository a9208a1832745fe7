import assert from "node:assert/strict";
import { fromHex, macToString, toHex } from "../../lib/packet/bytes.ts";
import {
  emitEthernet,
  ethernetBufferLen,
  ethernetRepr,
  EthernetView,
  parseEthernet,
} from "../../lib/packet/ethernet.ts";
import { isParseError } from "../../lib/packet/error.ts";

const UNTAGGED = "a84025ff7777a840250000010800";
const TAGGED = "a84025ff7777a84025000001810060640800";

Deno.test("ethernet: deconstruct untagged and 802.1Q tagged headers", () => {
  const v = parseEthernet(fromHex(UNTAGGED)!, 0, 14) as EthernetView;
  assert.ok(!isParseError(v));
  assert.equal(macToString(v.dst), "a8:40:25:ff:77:77");
  assert.equal(macToString(v.src), "a8:40:25:00:00:01");
  assert.deepEqual([v.etherType, v.vlan, v.tagged, v.headerLen], [0x0800, -1, false, 14]);
  const t = parseEthernet(fromHex(TAGGED)!, 0, 18) as EthernetView;
  assert.deepEqual([t.etherType, t.vlan, t.pcp, t.tagged, t.headerLen], [0x0800, 100, 3, true, 18]);
});

Deno.test("ethernet: construct, and emit(repr(parse(bytes))) is identity", () => {
  for (const hex of [UNTAGGED, TAGGED]) {
    const b = fromHex(hex)!;
    const r = ethernetRepr(parseEthernet(b, 0, b.length) as EthernetView);
    const out = new Uint8Array(ethernetBufferLen(r));
    assert.equal(emitEthernet(r, out, 0), b.length);
    assert.equal(toHex(out), hex);
  }
  const v = new EthernetView(fromHex(TAGGED)!, 0);
  v.etherType = 0x86dd;
  v.src = fromHex("020000000001")!;
  assert.equal(toHex(v.buf), "a84025ff77770200000000018100606486dd");
});

Deno.test("ethernet: short headers and double tags are errors", () => {
  assert.deepEqual(parseEthernet(new Uint8Array(13), 0, 13), {
    kind: "truncated",
    at: "ethernet",
    offset: 0,
  });
  assert.equal((parseEthernet(fromHex(TAGGED)!, 0, 17) as { kind: string }).kind, "truncated");
  const qinq = fromHex("a84025ff7777a84025000001810060648100000a0800")!;
  assert.equal((parseEthernet(qinq, 0, qinq.length) as { kind: string }).kind, "unsupported");
});
