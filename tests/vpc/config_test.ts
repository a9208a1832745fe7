import assert from "node:assert/strict";
import { resolveConfig, type VpcPortConfig } from "../../lib/vpc/config.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { formatErrors } from "../../lib/vpc/validate.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";

const base: VpcPortConfig = {
  name: "p",
  vni: 10,
  guestMac: "a8:40:25:fa:00:0a",
  underlay: "fd00:1::1",
  v4: { privateIp: "172.30.0.10", subnet: "172.30.0.0/22" },
  mappings: new Mappings(),
};

Deno.test("port config: defaults (gateway = first host, MTU 1500, gateway MAC)", () => {
  const r = resolveConfig(base);
  assert.ok(r.ok);
  assert.deepEqual([...r.value.v4!.gatewayIp!], [172, 30, 0, 1]);
  assert.equal(r.value.mtu, 1500);
  assert.deepEqual([...r.value.gatewayMac], [0xa8, 0x40, 0x25, 0xff, 0x77, 0x77]);
  assert.equal(r.value.v6, null);
});

Deno.test("port config: every bad field is named with what would be right", () => {
  const r = resolveConfig({
    ...base,
    vni: -1,
    guestMac: "a8:40:25:zz:00:01",
    underlay: "10.0.0.1",
    mtu: 100,
    v4: {
      privateIp: "172.30.0",
      subnet: "172.30.0.1/22",
      transitSubnets: ["fd00::/64"],
      external: { floatingIps: ["x"] },
    },
    dhcp: { dns4: ["fd00::53"] },
  });
  assert.ok(!r.ok);
  assert.equal(
    formatErrors(r.errors),
    [
      'guestMac: "a8:40:25:zz:00:01" is not a MAC address (expected six hex pairs)',
      'underlay: "10.0.0.1" is not an IPv6 address',
      "vni: -1 is not a VNI (expected 0-16777215)",
      "mtu: 100 is not an MTU (expected 1280-9000)",
      'v4.privateIp: "172.30.0" is not an IPv4 address',
      'v4.subnet: "172.30.0.1/22" is not an IPv4 prefix with host bits zero',
      'v4.transitSubnets[0]: "fd00::/64" is not an IPv4 prefix',
      'v4.external.floatingIps[0]: "x" is not an IP address',
      'dhcp.dns4[0]: "fd00::53" is not an IPv4 address',
    ].join("\n"),
  );
  assert.throws(
    () => vpcPort({ ...base, guestMac: "nope" }),
    /guestMac: "nope" is not a MAC address/,
  );
  assert.throws(() => vpcPort({ ...base, v4: undefined }), /v4: a port needs v4, v6 or both/);
});
