// fast-check generators of DHCPv4 and DHCPv6 Reprs, shared by the codec round-trip tests and
// the tshark interop test.
import * as fc from "fast-check";
import { BOOTREPLY, BOOTREQUEST, type DhcpRepr } from "../../../lib/packet/dhcp.ts";
import type { Dhcpv6Repr } from "../../../lib/packet/dhcpv6.ts";

const addr = fc.uint8Array({ minLength: 4, maxLength: 4 });
const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const dnsName = fc.array(label, { minLength: 2, maxLength: 4 }).map((ls) => ls.join("."));
/** Any DHCPv4 Repr emit accepts (host bits of route destinations cleared). */
export const dhcpReprArb: fc.Arbitrary<DhcpRepr> = fc.record({
  op: fc.constantFrom(BOOTREQUEST, BOOTREPLY),
  htype: fc.constant(1),
  hops: fc.integer({ min: 0, max: 255 }),
  xid: fc.integer({ min: 0, max: 0xffffffff }),
  secs: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.constantFrom(0, 0x8000),
  ciaddr: addr,
  yiaddr: addr,
  siaddr: addr,
  giaddr: addr,
  chaddr: fc.uint8Array({ minLength: 6, maxLength: 6 }),
  messageType: fc.integer({ min: 1, max: 8 }),
  subnetMask: addr,
  routers: fc.array(addr, { minLength: 1, maxLength: 3 }),
  dnsServers: fc.array(addr, { minLength: 1, maxLength: 3 }),
  hostname: label,
  domainName: dnsName,
  domainSearch: fc.array(dnsName, { minLength: 1, maxLength: 20 }),
  classlessRoutes: fc.array(
    fc.record({ prefixLen: fc.integer({ min: 0, max: 32 }), dest: addr, router: addr }).map(
      (r) => {
        const dest = new Uint8Array(4);
        for (let k = 0; k < r.prefixLen; k++) {
          const bit = 0x80 >> (k & 7);
          dest[k >> 3] |= r.dest[k >> 3] & bit;
        }
        return { ...r, dest };
      },
    ),
    { minLength: 1, maxLength: 5 },
  ),
  leaseTime: fc.integer({ min: 0, max: 0xffffffff }),
  serverId: addr,
  requestedIp: addr,
  parameterRequestList: fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 1 }),
  clientId: fc.uint8Array({ minLength: 2, maxLength: 20 }),
  renewalTime: fc.integer({ min: 0, max: 0xffffffff }),
  rebindingTime: fc.integer({ min: 0, max: 0xffffffff }),
  mtu: fc.integer({ min: 68, max: 0xffff }),
}, {
  requiredKeys: ["op", "htype", "hops", "xid", "secs", "flags", "ciaddr", "yiaddr"],
}).map((r) => ({
  ...r,
  siaddr: r.siaddr ?? new Uint8Array(4),
  giaddr: r.giaddr ?? new Uint8Array(4),
  chaddr: r.chaddr ?? new Uint8Array(6),
}));

const addr6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const status = fc.record({ code: fc.integer({ min: 0, max: 0xffff }), message: fc.string() });
const name6 = fc.array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 2, maxLength: 4 })
  .map((ls) => ls.join("."));
/** Any DHCPv6 Repr emit accepts. */
export const dhcpv6ReprArb: fc.Arbitrary<Dhcpv6Repr> = fc.record({
  msgType: fc.integer({ min: 1, max: 11 }),
  transactionId: fc.integer({ min: 0, max: 0xffffff }),
  clientId: fc.uint8Array({ minLength: 2, maxLength: 20 }),
  serverId: fc.uint8Array({ minLength: 2, maxLength: 20 }),
  iaNa: fc.array(
    fc.record({
      iaid: u32,
      t1: u32,
      t2: u32,
      addresses: fc.array(
        fc.record({ addr: addr6, preferredLifetime: u32, validLifetime: u32, status }, {
          requiredKeys: ["addr", "preferredLifetime", "validLifetime"],
        }),
        { maxLength: 3 },
      ),
      status,
    }, { requiredKeys: ["iaid", "t1", "t2", "addresses"] }),
    { minLength: 1, maxLength: 2 },
  ),
  oro: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 0, maxLength: 5 }),
  preference: fc.integer({ min: 0, max: 255 }),
  elapsedTime: fc.integer({ min: 0, max: 0xffff }),
  status,
  rapidCommit: fc.constant(true),
  dnsServers: fc.array(addr6, { minLength: 0, maxLength: 3 }),
  domainList: fc.array(name6, { minLength: 0, maxLength: 4 }),
  other: fc.array(
    fc.record({
      code: fc.integer({ min: 100, max: 200 }),
      data: fc.uint8Array({ maxLength: 8 }),
    }),
    { minLength: 1, maxLength: 2 },
  ),
}, { requiredKeys: ["msgType", "transactionId"] });
