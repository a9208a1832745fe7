// Engine cost per packet. Names are stable so figures compare across commits.
// Each iteration is one packet; the `rewind` cost (restoring offsets and meta, ~10 ns) is
// included and measured alone as `fastpath rewind baseline`.

import { A, DIR_IN, DIR_OUT, RES_DROP, RES_MODIFIED } from "../../lib/engine/mod.ts";
import type { RuleSpec } from "../../lib/engine/rule.ts";
import {
  guestTcpSyn,
  guestUdp,
  nthFlow,
  Replay,
  underlayReply,
  vpcLikePort,
} from "../engine/fixtures.ts";

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench setup: ${what}`);
}

/** Throws unless the packet got `want` (a bench that stopped doing its work must not pass). */
function must(got: number, want: number, what: string): void {
  if (got !== want) throw new Error(`${what}: result ${got}, expected ${want}`);
}

const port = vpcLikePort();
const out64 = new Replay(guestUdp(64));
const out1400 = new Replay(guestUdp(1400));
check(port.process(DIR_OUT, out64.rewind()) === RES_MODIFIED, "encap 64");
check(port.process(DIR_OUT, out64.rewind()) === RES_MODIFIED && port.result.fastPath, "encap hit");
const back = new Replay(underlayReply(64));
check(port.process(DIR_IN, back.rewind()) === RES_MODIFIED, "decap");
check(port.process(DIR_IN, back.rewind()) === RES_MODIFIED && port.result.fastPath, "decap hit");

Deno.bench("fastpath rewind baseline", () => {
  out64.rewind();
});

Deno.bench("fastpath encap 64B", () => {
  must(port.process(DIR_OUT, out64.rewind()), RES_MODIFIED, "encap 64B");
});

Deno.bench("fastpath encap 1400B", () => {
  must(port.process(DIR_OUT, out1400.rewind()), RES_MODIFIED, "encap 1400B");
});

Deno.bench("fastpath decap", () => {
  must(port.process(DIR_IN, back.rewind()), RES_MODIFIED, "decap");
});

function rules(n: number): RuleSpec[] {
  // n-1 rules that do not match (distinct /32 destinations on port 443), then one deny that does,
  // all in the first layer: a dropped packet never creates a UFT entry, so every iteration looks
  // the rule up among all n (and no stateful layer runs, which would add pair setup and rollback).
  // The rule index files these by destination; `slowpath 1000 mixed rules` mixes the fields.
  const rs: RuleSpec[] = [];
  for (let i = 0; i < n - 1; i++) {
    rs.push({
      priority: 100 + i,
      predicates: [
        { kind: "ipDst", cidrs: [`172.16.${(i >> 8) & 255}.${i & 255}`] },
        { kind: "dstPort", ports: [443] },
      ],
      action: { kind: "allow" },
    });
  }
  rs.push({
    priority: 60000,
    predicates: [{ kind: "dstPort", ports: [443] }],
    action: A.deny("end"),
  });
  return rs;
}

for (const n of [10, 100, 1000, 10000]) {
  const p = vpcLikePort(rules(n));
  const r = new Replay(guestUdp(64));
  check(p.process(DIR_OUT, r.rewind()) === RES_DROP && p.result.reason === "end", `slowpath ${n}`);
  Deno.bench(`slowpath ${n} rules`, () => {
    must(p.process(DIR_OUT, r.rewind()), RES_DROP, `slowpath ${n}`);
  });
}

function mixedRules(n: number): RuleSpec[] {
  // Firewall-shaped rules over every indexed field (source /24s, TCP ports, IPv6 /64s, UDP port
  // ranges), none matching the probe (UDP to port 443), then the catch-all deny.
  const rs: RuleSpec[] = [];
  for (let i = 0; i < n - 1; i++) {
    const preds: RuleSpec["predicates"] = [
      [{ kind: "ipSrc", cidrs: [`172.${16 + (i >> 8)}.${i & 255}.0/24`] }],
      [{ kind: "ipProto", values: [6] }, { kind: "dstPort", ports: [1000 + i] }],
      [{ kind: "ipDst", cidrs: [`fd00:${i.toString(16)}::/64`] }],
      [{ kind: "ipProto", values: [17] }, { kind: "dstPort", ports: [[2000 + i, 2010 + i]] }],
    ][i % 4] as RuleSpec["predicates"];
    rs.push({ priority: 100 + i, predicates: preds, action: { kind: "allow" } });
  }
  rs.push({
    priority: 60000,
    predicates: [{ kind: "dstPort", ports: [443] }],
    action: A.deny("end"),
  });
  return rs;
}

{
  const p = vpcLikePort(mixedRules(1000));
  const r = new Replay(guestUdp(64));
  check(p.process(DIR_OUT, r.rewind()) === RES_DROP && p.result.reason === "end", "mixed");
  Deno.bench("slowpath 1000 mixed rules", () => {
    must(p.process(DIR_OUT, r.rewind()), RES_DROP, "slowpath mixed");
  });
}

const setupPort = vpcLikePort([], 1 << 15);
const fresh = new Replay(guestUdp(64));
let sport = 0;
Deno.bench("flow setup", () => {
  // A new source port each time; tables are cleared every 16k flows (amortised, included).
  const p = fresh.rewind();
  sport = (sport + 1) & 0x3fff;
  if (sport === 0) setupPort.clearFlows();
  const l4 = p.meta.outer.l4;
  p.buf[l4] = (sport + 1) >> 8;
  p.buf[l4 + 1] = sport + 1;
  p.meta.outer.srcPort = sport + 1;
  must(setupPort.process(DIR_OUT, p), RES_MODIFIED, "flow setup");
  if (setupPort.result.fastPath) throw new Error("flow setup: hit an existing flow");
});

// A connection storm: each iteration opens a TCP flow (SYN) from a new source and resets it (RST).
// After 8,192 the firewall's LFT is full of reset flows' pairs, so flow setup includes making room.
const stormPort = vpcLikePort();
const syn = new Replay(guestTcpSyn());
const rst = new Replay(
  guestTcpSyn().map((l) => l.type === "tcp" ? { ...l, flags: "R", seq: 1001 } : l),
);
let stormN = 0;
function connect(): void {
  stormN = (stormN + 1) & 0xfffff;
  must(stormPort.process(DIR_OUT, nthFlow(syn, stormN)), RES_MODIFIED, "storm SYN");
  must(stormPort.process(DIR_OUT, nthFlow(rst, stormN)), RES_MODIFIED, "storm RST");
}
for (let i = 0; i < 9000; i++) connect();
check(stormPort.stats.evictScans > 0, "storm fills the LFT");
Deno.bench("flow setup storm, LFT full of reset flows (SYN+RST)", connect);
