import assert from "node:assert/strict";
import * as fc from "fast-check";
import { parseIpv6 } from "../../lib/packet/bytes.ts";
import { parseAddrWords } from "../../lib/packet/addr.ts";
import { V2B, V2P } from "../../lib/vpc/mappings.ts";
import { WordTable } from "../../lib/vpc/wordtable.ts";

const words = (ip: string) => parseAddrWords(ip)!.words;

Deno.test("WordTable behaves like a Map under random set/delete (backward-shift deletion)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 200 }), fc.nat(1000)), {
        maxLength: 400,
      }),
      (ops) => {
        const t = new WordTable(2, 4);
        const m = new Map<number, number>();
        const k = new Uint32Array(2);
        for (const [isSet, key, val] of ops) {
          k[0] = key;
          k[1] = key * 7;
          if (isSet) {
            assert.equal(t.set(k, 0, val), m.get(key) ?? -1);
            m.set(key, val);
          } else {
            assert.equal(t.delete(k, 0), m.get(key) ?? -1);
            m.delete(key);
          }
        }
        assert.equal(t.size, m.size);
        for (let key = 0; key <= 200; key++) {
          k[0] = key;
          k[1] = key * 7;
          assert.equal(t.get(k, 0), m.get(key) ?? -1);
        }
      },
    ),
  );
});

Deno.test("V2P: set, lookup, overwrite, clear, dump", () => {
  const v2p = new V2P();
  v2p.set(10, "172.30.0.5", "a8:40:25:00:00:05", "fd00:2::1");
  v2p.set(10, "fd00:a::5", "a8:40:25:00:00:05", "fd00:2::1");
  v2p.set(11, "172.30.0.5", "a8:40:25:00:00:99", "fd00:3::1");
  assert.equal(v2p.size, 3);
  const e = v2p.lookup(10, 4, words("172.30.0.5"));
  assert.ok(e >= 0);
  const mac = new Uint8Array(6), ul = new Uint8Array(16);
  v2p.copyMac(e, mac, 0);
  v2p.copyUnderlay(e, ul, 0);
  assert.deepEqual([...mac], [0xa8, 0x40, 0x25, 0, 0, 5]);
  assert.deepEqual(ul, parseIpv6("fd00:2::1"));
  // Same address in another VNI is another mapping.
  const e11 = v2p.lookup(11, 4, words("172.30.0.5"));
  v2p.copyMac(e11, mac, 0);
  assert.equal(mac[5], 0x99);
  assert.equal(v2p.lookup(12, 4, words("172.30.0.5")), -1);
  assert.equal(v2p.lookup(10, 4, words("172.30.0.6")), -1);
  // Lookup straight from frame bytes at an offset.
  const frame = new Uint8Array(40);
  frame.set(parseIpv6("fd00:a::5")!, 24);
  assert.equal(v2p.lookupFrame(10, 6, frame, 24), v2p.lookup(10, 6, words("fd00:a::5")));
  assert.deepEqual(
    v2p.dump().sort((a, b) => a.vni - b.vni || a.ip.localeCompare(b.ip)),
    [
      { vni: 10, ip: "172.30.0.5", mac: "a8:40:25:00:00:05", underlay: "fd00:2::1" },
      { vni: 10, ip: "fd00:a::5", mac: "a8:40:25:00:00:05", underlay: "fd00:2::1" },
      { vni: 11, ip: "172.30.0.5", mac: "a8:40:25:00:00:99", underlay: "fd00:3::1" },
    ],
  );
  assert.equal(v2p.clear(10, "172.30.0.5"), true);
  assert.equal(v2p.clear(10, "172.30.0.5"), false);
  assert.equal(v2p.lookup(10, 4, words("172.30.0.5")), -1);
  assert.equal(v2p.size, 2);
  assert.throws(() => v2p.set(10, "10.0.0.1", "zz", "fd00::1"), /v2p\.mac: "zz"/);
  assert.throws(() => v2p.set(1 << 24, "10.0.0.1", "a8:40:25:00:00:01", "fd00::1"), /v2p\.vni/);
});

Deno.test("V2P generation: only the changed key invalidates a flow built before the change", () => {
  const v2p = new V2P();
  v2p.set(10, "10.0.0.2", "a8:40:25:00:00:02", "fd00:2::1");
  v2p.set(10, "10.0.0.3", "a8:40:25:00:00:03", "fd00:2::1");
  const g = v2p.generation;
  assert.ok(v2p.unchangedSince(g, 10, 4, words("10.0.0.2")));
  // Re-setting identical values is not a change.
  v2p.set(10, "10.0.0.2", "a8:40:25:00:00:02", "fd00:2::1");
  assert.equal(v2p.generation, g);
  v2p.set(10, "10.0.0.3", "a8:40:25:00:00:03", "fd00:3::1"); // .3 moved to another sled
  assert.ok(v2p.generation > g);
  assert.ok(v2p.unchangedSince(g, 10, 4, words("10.0.0.2")));
  assert.ok(!v2p.unchangedSince(g, 10, 4, words("10.0.0.3")));
  const g2 = v2p.generation;
  v2p.clear(10, "10.0.0.2");
  assert.ok(!v2p.unchangedSince(g2, 10, 4, words("10.0.0.2")));
  v2p.set(10, "10.0.0.2", "a8:40:25:00:00:02", "fd00:2::1"); // back, but after g2
  assert.ok(!v2p.unchangedSince(g2, 10, 4, words("10.0.0.2")));
});

Deno.test("V2P holds 1M entries and finds each", () => {
  const v2p = new V2P();
  const mac = new Uint8Array([0xa8, 0x40, 0x25, 0, 0, 0]), ul = parseIpv6("fd00:1::1")!;
  const N = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    mac[3] = i >>> 16;
    mac[4] = i >>> 8;
    mac[5] = i;
    ul[15] = i & 0xff;
    v2p.setBytes(7, `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`, mac, ul);
  }
  const tSet = performance.now() - t0;
  assert.equal(v2p.size, N);
  const w = new Uint32Array(4), out = new Uint8Array(6);
  const t1 = performance.now();
  for (let i = 0; i < N; i++) {
    w[0] = (0x0a000000 | i) >>> 0;
    const e = v2p.lookup(7, 4, w);
    if (e < 0) assert.fail(`missing ${i}`);
    if ((i & 0xffff) === 0) {
      v2p.copyMac(e, out, 0);
      assert.equal((out[3] << 16) | (out[4] << 8) | out[5], i);
    }
  }
  const tGet = performance.now() - t1;
  console.log(
    `V2P 1M: set ${(tSet * 1e6 / N).toFixed(0)} ns/entry, lookup ${
      (tGet * 1e6 / N).toFixed(0)
    } ns/lookup`,
  );
});

Deno.test("V2B: longest prefix wins, VNI defaults to 99, endpoint chosen by flow hash", () => {
  const v2b = new V2B();
  v2b.set("0.0.0.0/0", [{ ip: "fd00:99::1" }, { ip: "fd00:99::2" }]);
  v2b.set("203.0.113.0/24", [{ ip: "fd00:99::3", vni: 100 }]);
  v2b.set("::/0", [{ ip: "fd00:99::1" }]);
  const h = v2b.lookup(4, words("203.0.113.7"));
  assert.equal(v2b.entry(h).cidr.len, 24);
  assert.equal(v2b.choose(h, 12345).vni, 100);
  const d = v2b.lookup(4, words("8.8.8.8"));
  assert.equal(v2b.entry(d).cidr.len, 0);
  assert.equal(v2b.choose(d, 0).vni, 99);
  assert.deepEqual(v2b.choose(d, 0).ip, parseIpv6("fd00:99::1"));
  assert.deepEqual(v2b.choose(d, 1).ip, parseIpv6("fd00:99::2"));
  assert.equal(v2b.entry(v2b.lookup(6, words("2001:db8::1"))).cidr.af, 6);
  assert.deepEqual(v2b.dump(), [
    {
      prefix: "0.0.0.0/0",
      endpoints: [{ ip: "fd00:99::1", vni: 99 }, { ip: "fd00:99::2", vni: 99 }],
    },
    { prefix: "203.0.113.0/24", endpoints: [{ ip: "fd00:99::3", vni: 100 }] },
    { prefix: "::/0", endpoints: [{ ip: "fd00:99::1", vni: 99 }] },
  ]);
  // Removing one endpoint keeps the prefix; removing the last drops it.
  assert.ok(v2b.clear("0.0.0.0/0", [{ ip: "fd00:99::2" }]));
  assert.equal(v2b.entry(v2b.lookup(4, words("8.8.8.8"))).endpoints.length, 1);
  assert.ok(v2b.clear("203.0.113.0/24"));
  assert.equal(v2b.entry(v2b.lookup(4, words("203.0.113.7"))).cidr.len, 0);
  assert.ok(v2b.clear("0.0.0.0/0"));
  assert.equal(v2b.lookup(4, words("8.8.8.8")), -1);
  assert.equal(v2b.clear("0.0.0.0/0"), false);
});

Deno.test("V2B generation: a more specific prefix or a removal invalidates, others do not", () => {
  const v2b = new V2B();
  v2b.set("0.0.0.0/0", [{ ip: "fd00:99::1" }]);
  const g = v2b.generation;
  v2b.set("2001:db8::/32", [{ ip: "fd00:99::1" }]);
  assert.ok(v2b.unchangedSince(g, 4, words("8.8.8.8")));
  v2b.set("8.8.0.0/16", [{ ip: "fd00:99::2" }]);
  assert.ok(!v2b.unchangedSince(g, 4, words("8.8.8.8")));
  assert.ok(v2b.unchangedSince(g, 4, words("9.9.9.9")));
  const g2 = v2b.generation;
  v2b.clear("8.8.0.0/16");
  assert.ok(!v2b.unchangedSince(g2, 4, words("8.8.8.8")));
});

Deno.test("V2B LPM agrees with a linear scan for random prefixes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 })), { maxLength: 30 }),
      fc.array(fc.nat(0xffffffff), { minLength: 1, maxLength: 20 }),
      (prefixes, probes) => {
        const v2b = new V2B();
        const model: { net: number; len: number }[] = [];
        for (const [addr, len] of prefixes) {
          const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
          const net = (addr & mask) >>> 0;
          const text = `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${
            net & 255
          }/${len}`;
          v2b.set(text, [{ ip: "fd00::1", vni: len }]);
          if (!model.some((m) => m.net === net && m.len === len)) model.push({ net, len });
        }
        const w = new Uint32Array(4);
        for (const p of probes) {
          w[0] = p;
          let best = -1;
          for (const m of model) {
            const mask = m.len === 0 ? 0 : (0xffffffff << (32 - m.len)) >>> 0;
            if (((p & mask) >>> 0) === m.net && m.len > best) best = m.len;
          }
          const h = v2b.lookup(4, w);
          assert.equal(h < 0 ? -1 : v2b.entry(h).cidr.len, best);
        }
      },
    ),
  );
});

Deno.test("V2P watch(vni) changes only with that VNI's mappings", () => {
  const v2p = new V2P();
  const w10 = v2p.watch(10), w20 = v2p.watch(20);
  const g10 = w10.gen, g20 = w20.gen;
  v2p.set(10, "10.0.0.1", "a8:40:25:00:00:01", "fd00:2::1");
  assert.notEqual(w10.gen, g10);
  assert.equal(w20.gen, g20);
  const g = w10.gen;
  v2p.set(10, "10.0.0.1", "a8:40:25:00:00:01", "fd00:2::1"); // unchanged: no bump
  assert.equal(w10.gen, g);
  v2p.clear(10, "10.0.0.1");
  assert.notEqual(w10.gen, g);
  assert.equal(w20.gen, g20);
  v2p.clearAll();
  assert.notEqual(w20.gen, g20);
  assert.equal(v2p.watch(10), w10);
});
