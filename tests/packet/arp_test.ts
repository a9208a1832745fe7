import assert from "node:assert/strict";
import { fromHex, ipv4ToString, macToString, toHex } from "../../lib/packet/bytes.ts";
import {
  ARP_REPLY,
  ARP_REQUEST,
  arpRepr,
  ArpView,
  emitArp,
  parseArp,
} from "../../lib/packet/arp.ts";

// scapy: ARP(op=1, hwsrc="a8:40:25:00:00:01", psrc="10.0.0.5", pdst="10.0.0.1")
const REQ = "0001080006040001a840250000010a0000050000000000000a000001";

Deno.test("arp: deconstruct a request", () => {
  const v = parseArp(fromHex(REQ)!, 0, 28) as ArpView;
  assert.equal(v.operation, ARP_REQUEST);
  assert.equal(macToString(v.senderMac), "a8:40:25:00:00:01");
  assert.equal(ipv4ToString(v.senderIp), "10.0.0.5");
  assert.equal(macToString(v.targetMac), "00:00:00:00:00:00");
  assert.equal(ipv4ToString(v.targetIp), "10.0.0.1");
});

Deno.test("arp: construct a reply from a request's repr", () => {
  const r = arpRepr(parseArp(fromHex(REQ)!, 0, 28) as ArpView);
  const out = new Uint8Array(28);
  emitArp(r, out, 0);
  assert.equal(toHex(out), REQ);
  emitArp(
    {
      operation: ARP_REPLY,
      senderMac: fromHex("a84025ff7777")!,
      senderIp: r.targetIp,
      targetMac: r.senderMac,
      targetIp: r.senderIp,
    },
    out,
    0,
  );
  assert.equal(toHex(out), "0001080006040002a84025ff77770a000001a840250000010a000005");
});

Deno.test("arp: short or non-Ethernet/IPv4 ARP is refused", () => {
  assert.equal((parseArp(fromHex(REQ)!, 0, 27) as { kind: string }).kind, "truncated");
  const bad = fromHex(REQ)!;
  bad[1] = 6; // hardware type IEEE 802
  assert.equal((parseArp(bad, 0, 28) as { kind: string }).kind, "unsupported");
});
