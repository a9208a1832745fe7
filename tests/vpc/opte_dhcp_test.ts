// Upstream OPTE's test_reply_to_dhcpv6_solicit_or_request: Solicit / Request, with and without
// Rapid Commit, answered from the gateway with infinite lifetimes, the search list in order and
// the FQDN option (flags O|S, "testbox.test.oxide.computer"). tshark is the decoding oracle; the
// option bytes upstream asserts are checked byte for byte.

import assert from "node:assert/strict";
import { ipToString, parseIp } from "../../lib/packet/bytes.ts";
import { duidLl, emitDhcpv6 } from "../../lib/packet/dhcpv6.ts";
import { ipFrame, udpSegment } from "../../lib/vpc/emit.ts";
import { eui64LinkLocal, ipv6MulticastMac } from "../../lib/packet/addr.ts";
import { vpcConfig } from "../../lib/runtime/translate.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { hex } from "./frames.ts";
import { assertHairpin, GW_MAC, Scenario } from "./harness.ts";
import { haveTshark, tsharkFields } from "./tshark.ts";
import { G1, VNI } from "./opte_setup.ts";

/** Upstream's base_dhcp_config. */
const DHCP = {
  hostname: "testbox",
  domain: "test.oxide.computer",
  search: ["oxide.computer"],
  dns4: ["8.8.8.8", "1.1.1.1"],
  dns6: [
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
  ],
};

const has = (buf: Uint8Array, needle: Uint8Array) => {
  outer: for (let i = 0; i + needle.length <= buf.length; i++) {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
};

Deno.test("test_reply_to_dhcpv6_solicit_or_request: Advertise/Reply, infinite lifetimes, search list, FQDN", async (t) => {
  const s = new Scenario();
  const g1 = s.port({
    name: "g1",
    vni: VNI,
    guestMac: G1.mac,
    underlay: G1.underlay,
    v4: { privateIp: G1.ip, subnet: "172.30.0.0/22" },
    v6: { privateIp: G1.ip6, subnet: "fd00::/64" },
    dhcp: DHCP,
  });
  const guestLl = eui64LinkLocal(parseMacBytes(G1.mac));
  const allServers = parseIp("ff02::1:2")!;
  const replies: Uint8Array[] = [];
  const cases: [number, boolean][] = [[1, false], [1, true], [3, false], [3, true]];
  for (const [msgType, rapid] of cases) {
    const req = emitDhcpv6({
      msgType,
      transactionId: 0x000102,
      clientId: duidLl(parseMacBytes(G1.mac)),
      elapsedTime: 10,
      iaNa: [{ iaid: 0xff7, t1: 3600, t2: 6200, addresses: [] }],
      oro: [23, 24, 39],
      rapidCommit: rapid || undefined,
      serverId: msgType === 3 ? duidLl(parseMacBytes(GW_MAC)) : undefined,
    });
    const frame = ipFrame(
      parseMacBytes(G1.mac),
      ipv6MulticastMac(allServers),
      guestLl,
      allServers,
      17,
      udpSegment(546, 547, req),
      1,
    );
    const reply = assertHairpin(s.send(g1, "out", frame));
    replies.push(reply);
    // From the gateway MAC and link-local (EUI-64 of the gateway MAC) to the client, 547 → 546.
    assert.deepEqual(
      reply.subarray(0, 12),
      hex(`${G1.mac.replaceAll(":", "")} ${GW_MAC.replaceAll(":", "")}`),
    );
    assert.equal(
      ipToString(reply.subarray(22, 38)),
      ipToString(eui64LinkLocal(parseMacBytes(GW_MAC))),
    );
    assert.equal(ipToString(reply.subarray(38, 54)), ipToString(guestLl));
    assert.notEqual((reply[60] << 8) | reply[61], 0, "UDP checksum is mandatory over IPv6");
    // The option bytes upstream checks: FQDN = flags 0b011, then the name in wire form.
    assert.ok(
      has(
        reply,
        hex("0027 001e 03 07 74657374626f78 04 74657374 05 6f78696465 08 636f6d7075746572 00"),
      ),
    );
    // Domain search list: exactly the configured list ("oxide.computer"), uncompressed.
    assert.ok(has(reply, hex("0018 0010 05 6f78696465 08 636f6d7075746572 00")));
    // IA_NA with the client's IAID, T1 = T2 = infinity, and the address with infinite lifetimes.
    const addr = Array.from(parseIp(G1.ip6)!, (b) => b.toString(16).padStart(2, "0")).join("");
    assert.ok(
      has(reply, hex(`0003 0028 00000ff7 ffffffff ffffffff 0005 0018 ${addr} ffffffff ffffffff`)),
    );
    // Solicit + Rapid Commit echoes Rapid Commit.
    assert.equal(has(reply, hex("000e 0000")), msgType === 1 && rapid);
  }
  if (haveTshark) {
    const rows = await tsharkFields(replies, [
      "dhcpv6.msgtype",
      "dhcpv6.xid",
      "dhcpv6.iaid",
      "dhcpv6.iaid.t1",
      "dhcpv6.iaid.t2",
      "dhcpv6.iaaddr.ip",
      "dhcpv6.iaaddr.pref_lifetime",
      "dhcpv6.iaaddr.valid_lifetime",
      "dhcpv6.client_fqdn_flags",
    ]);
    // Solicit → Advertise (2); Solicit + Rapid Commit, and Request → Reply (7).
    const common = [
      "0x000102",
      "00000ff7",
      "4294967295",
      "4294967295",
      G1.ip6,
      "4294967295",
      "4294967295",
      "0x03",
    ];
    assert.deepEqual(rows, [["2", ...common], ["7", ...common], ["7", ...common], [
      "7",
      ...common,
    ]]);
  } else if (Deno.env.get("CI")) throw new Error("tshark missing (tests/setup.sh installs it)");
  await s.tshark(t, "dhcpv6 solicit/request");
});

Deno.test("DHCP options come from the port's config (overlay.dhcp, upstream's DhcpCfg names)", () => {
  const cfg = vpcConfig(
    {
      name: "vm1",
      mac: G1.mac,
      mtu: 1500,
      overlay: {
        vni: VNI,
        ipv6: "fd00::5/64",
        dhcp: {
          hostname: "testbox",
          hostDomain: "test.oxide.computer",
          domainSearchList: ["oxide.computer", "corp.example"],
          dns4Servers: ["8.8.8.8"],
          dns6Servers: ["2001:4860:4860::8888"],
        },
      },
    },
    "fd00:1::1",
    new Mappings(),
  )!;
  assert.deepEqual(cfg.dhcp, {
    hostname: "testbox",
    domain: "test.oxide.computer",
    search: ["oxide.computer", "corp.example"],
    dns4: ["8.8.8.8"],
    dns6: ["2001:4860:4860::8888"],
  });
});

function parseMacBytes(m: string): Uint8Array {
  return hex(m.replaceAll(":", ""));
}
