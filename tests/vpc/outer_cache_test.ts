// The overlay shares one outer header per destination (lib/vpc/outer_cache.ts) and writes each
// flow's entropy over it: every frame must still carry exactly the header its own flow and the
// current mappings call for, written out independently by `expectedOuter`.
import assert from "node:assert/strict";
import {
  assertPassed,
  BOUNDARY,
  buildFrame,
  expectedOuter,
  flowHashOf,
  GW_MAC,
  innerOf,
  Scenario,
  SLED1,
  SLED2,
} from "./harness.ts";
import { cat } from "./frames.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";

const A = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
const B = { mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };
const MSS = "0129 02 01 000005b4";

function guestA(s: Scenario, snat = false) {
  s.mappings.v2p.set(10, A.ip, A.mac, SLED1);
  s.mappings.v2p.set(10, B.ip, B.mac, SLED2);
  return s.port({
    name: "a",
    vni: 10,
    guestMac: A.mac,
    underlay: SLED1,
    v4: {
      privateIp: A.ip,
      subnet: "172.30.0.0/22",
      external: snat ? { snat: { ip: "203.0.113.9", ports: "1024-65535" } } : undefined,
    },
  });
}

const frame = (dst: string, sport: number, proto: "tcp" | "udp", flags = "S"): LayerSpec[] => [
  { type: "ethernet", src: A.mac, dst: GW_MAC },
  { type: "ipv4", src: A.ip, dst, id: 7 },
  proto === "tcp"
    ? { type: "tcp", srcPort: sport, dstPort: 80, flags, seq: 1000, ack: flags === "A" ? 1 : 0 }
    : { type: "udp", srcPort: sport, dstPort: 7777 },
  { type: "payload", data: "hi" },
];

/** The frame `a` must emit for guest frame `f` to `dst`/`mac` (options as hex). */
function want(f: LayerSpec[], dst: string, mac: string, opts: string): Uint8Array {
  const inner = buildFrame(f.map((l) => l.type === "ethernet" ? { ...l, dst: mac } : l));
  return cat(expectedOuter(SLED1, dst, 10, flowHashOf(buildFrame(f)), inner.length, opts), inner);
}

Deno.test("flows to one destination each carry their own entropy over the shared header", async (t) => {
  const s = new Scenario();
  const a = guestA(s);
  const flows = [40000, 40001, 40002].map((p) => frame(B.ip, p, "tcp"));
  const udp = frame(B.ip, 40053, "udp");
  for (const f of flows) {
    assert.deepEqual(assertPassed(s.send(a, "out", buildFrame(f))), want(f, SLED2, B.mac, MSS));
  }
  // UDP to the same destination: the header without the MSS option.
  assert.deepEqual(assertPassed(s.send(a, "out", buildFrame(udp))), want(udp, SLED2, B.mac, ""));
  // Later segments of each flow (UFT hits) still carry that flow's source port and flow label.
  for (const f of flows.map((f) => f.map((l) => l.type === "tcp" ? { ...l, flags: "A" } : l))) {
    const o = s.send(a, "out", buildFrame(f));
    assert.equal(o.fastPath, true);
    assert.deepEqual(o.frame, want(f, SLED2, B.mac, MSS));
  }
  await s.tshark(t, "shared outer header");
});

Deno.test("a V2P change or a re-added mapping gives new flows the new header", async (t) => {
  const s = new Scenario();
  const a = guestA(s);
  const first = frame(B.ip, 40000, "tcp");
  assert.deepEqual(
    assertPassed(s.send(a, "out", buildFrame(first))),
    want(first, SLED2, B.mac, MSS),
  );
  // B moves to sled 3 with a new MAC: a new flow (TCP and UDP) goes there.
  s.mappings.v2p.set(10, B.ip, "a8:40:25:fa:01:0b", "fd00:3::1");
  const second = frame(B.ip, 40001, "tcp"), udp = frame(B.ip, 40053, "udp");
  assert.deepEqual(
    assertPassed(s.send(a, "out", buildFrame(second))),
    want(second, "fd00:3::1", "a8:40:25:fa:01:0b", MSS),
  );
  assert.deepEqual(
    assertPassed(s.send(a, "out", buildFrame(udp))),
    want(udp, "fd00:3::1", "a8:40:25:fa:01:0b", ""),
  );
  // Removed and set again (the table may reuse the entry's slot): the newest mapping wins.
  s.mappings.v2p.clear(10, B.ip);
  s.mappings.v2p.set(10, B.ip, "a8:40:25:fa:02:0b", "fd00:4::1");
  const third = frame(B.ip, 40002, "tcp");
  assert.deepEqual(
    assertPassed(s.send(a, "out", buildFrame(third))),
    want(third, "fd00:4::1", "a8:40:25:fa:02:0b", MSS),
  );
  // Another address set in the slot B's old mapping had: its own header, not B's.
  s.mappings.v2p.clear(10, B.ip);
  s.mappings.v2p.set(10, "172.30.0.12", "a8:40:25:fa:00:0c", "fd00:5::1");
  const toC = frame("172.30.0.12", 40003, "tcp");
  assert.deepEqual(
    assertPassed(s.send(a, "out", buildFrame(toC))),
    want(toC, "fd00:5::1", "a8:40:25:fa:00:0c", MSS),
  );
  await s.tshark(t, "v2p change");
});

Deno.test("a V2B change gives new boundary flows the new endpoint", async (t) => {
  const s = new Scenario();
  const a = guestA(s, true);
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: BOUNDARY }]);
  const boundary = (sport: number, dst: string) => {
    const w = assertPassed(s.send(a, "out", buildFrame(frame("8.8.8.8", sport, "tcp"))));
    const inner = innerOf(w);
    assert.deepEqual(
      w.subarray(0, w.length - inner.length),
      expectedOuter(SLED1, dst, 99, flowHashOf(w, true), inner.length),
    );
    assert.deepEqual(inner.subarray(0, 6), Uint8Array.of(0xa8, 0x40, 0x25, 0x77, 0x77, 0x77));
  };
  boundary(40000, BOUNDARY);
  boundary(40001, BOUNDARY);
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: "fd00:98::1" }]);
  boundary(40002, "fd00:98::1");
  await s.tshark(t, "v2b change");
});
