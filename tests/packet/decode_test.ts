import assert from "node:assert/strict";
import * as fc from "fast-check";
import { decodeFrame, type Layer } from "../../lib/packet/decode.ts";
import { pcapFile } from "../../lib/packet/pcap.ts";
import { DHCP_OFFER, XDENO_FRAMES } from "./interop/frames.ts";

const frame = (name: string) => XDENO_FRAMES.find(([n]) => n === name)![1];
const layers = (name: string) => {
  const d = decodeFrame(frame(name), 1);
  assert.equal(d.error, undefined, `${name}: ${d.error}`);
  return d.layers!;
};
const types = (ls: Layer[]) => ls.map((l) => l.type);

Deno.test("decode: every xdeno-built frame decodes, layer types in order", () => {
  const want: Record<string, string[]> = {
    "arp request": ["ethernet", "arp"],
    "ipv4 options udp": ["ethernet", "ipv4", "udp"],
    "ipv6 ext headers udp": ["ethernet", "ipv6", "udp"],
    "icmpv4 frag needed": ["ethernet", "ipv4", "icmp"],
    "ndp ra": ["ethernet", "ipv6", "icmpv6"],
    "geneve vni 100 mss": ["ethernet", "ipv6", "udp", "geneve", "ethernet", "ipv4", "tcp"],
    "dhcpv4 offer": ["ethernet", "ipv4", "udp", "dhcp"],
    "dhcpv6 reply": ["ethernet", "ipv6", "udp", "dhcpv6"],
  };
  for (const [name, t] of Object.entries(want)) assert.deepEqual(types(layers(name)), t, name);
  for (const [name, f] of XDENO_FRAMES) {
    const d = decodeFrame(f, 7);
    assert.equal(d.frame, 7);
    assert.ok(d.layers && !d.error, `${name}: ${d.error}`);
  }
});

Deno.test("decode: field values of IPv4 options, IPv6 ext headers, ICMP errors, NDP", () => {
  const [, ip4, udp] = layers("ipv4 options udp");
  assert.deepEqual(ip4, {
    type: "ipv4",
    src: "172.30.0.10",
    dst: "172.30.0.1",
    protocol: 17,
    ttl: 17,
    id: 0x4242,
    df: true,
    mf: false,
    frag_offset: 0,
    header_len: 24,
    total_length: 24 + 8 + 5,
  });
  assert.deepEqual([udp.src_port, udp.dst_port, udp.length], [40010, 9000, 13]);
  const [, ip6] = layers("ipv6 ext headers udp");
  assert.deepEqual([ip6.next_header, ip6.ext_headers, ip6.hop_limit], [0, [0, 60], 9]);
  const [, , icmp] = layers("icmpv4 frag needed");
  assert.deepEqual([icmp.icmp_type, icmp.code, icmp.mtu], [3, 4, 1400]);
  const quoted = icmp.embedded as Layer[];
  assert.deepEqual(types(quoted), ["ipv4", "udp"]);
  assert.deepEqual([quoted[0].dst, quoted[1].src_port, quoted[1].dst_port], [
    "8.8.8.8",
    40001,
    9000,
  ]);
  const [, , ptb] = layers("icmpv6 packet too big");
  assert.deepEqual([ptb.icmp_type, ptb.mtu], [2, 1280]);
  assert.equal((ptb.embedded as Layer[])[0].dst, "fd00:2::10");
  const [, , ra] = layers("ndp ra");
  assert.equal(ra.router_lifetime, 1800);
  assert.deepEqual((ra.options as { type: number }[]).map((o) => o.type), [1, 5, 3]);
  assert.deepEqual((ra.options as Record<string, unknown>[])[2].prefix, "fd00:5::");
  const [, , na] = layers("ndp na");
  assert.deepEqual([na.target, na.router, na.solicited, na.override], [
    "fe80::aa40:25ff:feff:7777",
    true,
    true,
    true,
  ]);
  assert.deepEqual(na.options, [{ type: 2, mac: "a8:40:25:ff:77:77" }]);
});

Deno.test("decode: Geneve, then inner layers; DHCP and DHCPv6 payloads", () => {
  const g = layers("geneve vni 99 external");
  assert.deepEqual(g[3], {
    type: "geneve",
    vni: 99,
    protocol: 0x6558,
    oam: false,
    critical: false,
    options: [{ class: 0x0129, type: 0, critical: false, data: "" }],
  });
  assert.deepEqual([g[6].src_port, g[6].flags, g[6].mss], [443, 0x12, 1400]);
  assert.equal(layers("geneve vni 100 mss")[3].options instanceof Array, true);
  const d = layers("dhcpv4 offer")[3];
  assert.equal(d.message_type, 2);
  assert.equal(d.xid, 0x3903f326);
  assert.equal(d.yiaddr, "172.30.0.10");
  assert.equal(d.chaddr, "a8:40:25:00:01:0a");
  assert.deepEqual(d.domain_search, ["sled1.oxide.test", "oxide.test"]);
  assert.deepEqual(d.classless_routes, ["10.0.0.0/8 via 172.30.0.1"]);
  const v6 = layers("dhcpv6 reply")[3];
  assert.equal(v6.msg_type, 7);
  assert.equal(v6.transaction_id, 0x123456);
  const opts = v6.options as Record<string, unknown>[];
  assert.deepEqual(opts.map((o) => o.code), [1, 2, 3, 14, 23, 24]);
  assert.equal(opts[0].mac, "a8:40:25:00:01:0a");
  assert.equal((opts[2].addresses as Record<string, unknown>[])[0].addr, "fd00:5::132");
});

Deno.test("decode: a broken frame is an error line, a broken DHCP payload an error layer", () => {
  const f = frame("tcp syn mss ipv4").slice(0, 30);
  assert.deepEqual(decodeFrame(f, 3), { frame: 3, error: "truncated ipv4 at byte 14" });
  const bad = frame("dhcpv4 offer").slice();
  const cookie = bad.length - DHCP_OFFER.length + 236;
  bad[cookie] = 0; // the UDP checksum is not the decoder's business; the cookie is
  const d = decodeFrame(bad, 1).layers!;
  assert.deepEqual(d[3], { type: "dhcp", error: `malformed dhcp at byte ${cookie}` });
});

/** Fails on what a silent out-of-bounds read would leave behind in the JSON. */
function assertClean(json: string): void {
  assert.ok(!/null|undefined|NaN|internal error/.test(json), json);
}

Deno.test("decode: never throws, never reads past the headers' lengths (property)", () => {
  const frames = XDENO_FRAMES.map(([, f]) => f);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      assertClean(JSON.stringify(decodeFrame(b, 1)));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.nat(frames.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
      fc.nat(),
      (k, edits, cut) => {
        const f = frames[k].slice();
        for (const [at, v] of edits) f[at % f.length] = v;
        const g = f.subarray(0, cut % (f.length + 1));
        const d = JSON.stringify(decodeFrame(g, 1));
        assertClean(d);
        // Ethernet padding must not change a good decode: nothing is read past the headers'
        // own lengths (an out-of-bounds read would see undefined here and 0xee there).
        if (d.includes('"error"')) return;
        const padded = new Uint8Array(g.length + 64).fill(0xee);
        padded.set(g);
        assert.equal(JSON.stringify(decodeFrame(padded, 1)), d);
      },
    ),
    { numRuns: 3000 },
  );
});

async function run(args: string[], stdin?: Uint8Array) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const p = cmd.spawn();
  if (stdin) {
    const w = p.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const o = await p.output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

Deno.test("xdeno decode: file and stdin give one JSON line per frame; bad input exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pcap = pcapFile([frame("arp request"), Uint8Array.of(1, 2, 3), frame("dhcpv6 reply")]);
    const path = `${dir}/f.pcap`;
    await Deno.writeFile(path, pcap);
    for (const r of [await run(["decode", path]), await run(["decode"], pcap)]) {
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.frame), [1, 2, 3]);
      assert.deepEqual(types(lines[0].layers), ["ethernet", "arp"]);
      assert.equal(lines[1].error, "truncated ethernet at byte 0");
      assert.equal(lines[2].layers[3].type, "dhcpv6");
    }
    await Deno.writeTextFile(`${dir}/t.txt`, "not a capture, just text\n");
    const bad = await run(["decode", `${dir}/t.txt`]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /t\.txt: not a readable pcap file \(malformed pcap at byte 0\)/);
    assert.equal(bad.out, "");
    const cut = await run(["decode"], pcap.subarray(0, pcap.length - 2));
    assert.equal(cut.code, 2);
    assert.match(cut.err, /stdin: not a readable pcap file \(truncated pcap.record/);
    const missing = await run(["decode", `${dir}/nope.pcap`]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.pcap: cannot read/);
    const help = await run(["decode", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /usage: xdeno decode \[FILE\.pcap\]/);
    assert.equal((await run(["decode", "--bogus"])).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
