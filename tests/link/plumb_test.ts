// xde0 plumbing by rtnetlink, verified with `ip -j addr` / `ip -j route`, and undone by close().
import assert from "node:assert/strict";
import { parseAddrPrefixText, Plumber } from "../../lib/link/plumb.ts";
import { TapLink } from "../../lib/link/tap.ts";
import { addNetns, delNetns, isRoot, sh, uniq, waitLinkGone } from "./netns.ts";

interface IpAddr {
  ifname: string;
  operstate: string;
  addr_info: { local: string; prefixlen: number; scope: string }[];
}
interface IpRoute {
  dst: string;
  dev: string;
  gateway?: string;
  metric?: number;
  protocol?: string;
}

function addrs(ns: string, dev: string): string[] {
  const j = JSON.parse(sh(["ip", "-n", ns, "-j", "addr", "show", "dev", dev])) as IpAddr[];
  // the kernel's own EUI-64 link-local is not ours to check
  return j[0].addr_info.map((a) => `${a.local}/${a.prefixlen}`)
    .filter((a) => !a.startsWith("fe80:") || a === "fe80::1:1/64").sort();
}

function routes(ns: string, dev: string): IpRoute[] {
  const v4 = JSON.parse(sh(["ip", "-n", ns, "-j", "-4", "route", "show", "dev", dev])) as IpRoute[];
  const v6 = JSON.parse(sh(["ip", "-n", ns, "-j", "-6", "route", "show", "dev", dev])) as IpRoute[];
  return [...v4, ...v6].filter((r) => r.protocol === "static");
}

Deno.test("plumb: parseAddrPrefixText reads both families and names bad input", () => {
  assert.deepEqual(parseAddrPrefixText("fd00:1::1/64").prefixLen, 64);
  assert.deepEqual([...parseAddrPrefixText("10.1.2.3/8").addr], [10, 1, 2, 3]);
  assert.equal(parseAddrPrefixText("fe80::1").prefixLen, 128);
  assert.throws(() => parseAddrPrefixText("10.0.0.1/33"), /not an address prefix/);
  assert.throws(() => parseAddrPrefixText("fd00::1/64/1"), /not an address prefix/);
  assert.throws(() => parseAddrPrefixText("zz::1/64"), /not an address prefix/);
});

Deno.test({
  name: "plumb: xde0 gets its underlay, link-local and v4 addresses and routes; close removes them",
  ignore: !isRoot("plumb xde0"),
  fn() {
    const u = uniq();
    const sled = addNetns(`${u}-sled`);
    const dev = `${u}x`;
    try {
      const xde0 = TapLink.open({ name: dev, netns: sled });
      const p = new Plumber(sled);
      try {
        p.addAddress(dev, "fd00:1::1/64");
        p.addAddress(dev, "fe80::1:1/64");
        p.addAddress(dev, "172.30.0.1/22");
        p.addRoute({ dst: "fd00::/16", dev, via: "fe80::ff" });
        p.addRoute({ dst: "10.99.0.0/16", dev, via: "172.30.0.254", metric: 20 });
        p.addRoute({ dst: "fd99::/64", dev });
        assert.deepEqual(addrs(sled, dev), ["172.30.0.1/22", "fd00:1::1/64", "fe80::1:1/64"]);
        const rs = routes(sled, dev).map((r) => `${r.dst} ${r.gateway ?? "-"} ${r.metric ?? "-"}`)
          .sort();
        assert.deepEqual(rs, [
          "10.99.0.0/16 172.30.0.254 20",
          "fd00::/16 fe80::ff 1024",
          "fd99::/64 - 1024",
        ]);
        // replacing is idempotent
        p.addRoute({ dst: "fd99::/64", dev });
        assert.equal(routes(sled, dev).length, 3);
        // the same answer through our own dump
        const mine = p.rtnl.addresses(p.index(dev)).length;
        assert.ok(mine >= 3, `rtnetlink dump shows ${mine} addresses`);
        p.setUp(dev, false);
        assert.equal(xde0.refresh(), false);
        p.setUp(dev, true);
        assert.equal(xde0.refresh(), true);
      } finally {
        p.close();
      }
      assert.deepEqual(routes(sled, dev), [], "routes removed");
      assert.deepEqual(addrs(sled, dev), [], "addresses removed");
      xde0.close();
      assert.ok(waitLinkGone(sled, dev), "xde0 removed with its fd");
    } finally {
      delNetns(sled);
    }
  },
});

Deno.test({
  name: "plumb: errors name the operation and leave nothing half-done",
  ignore: !isRoot("plumb errors"),
  fn() {
    const p = new Plumber();
    try {
      assert.throws(() => p.addAddress("no-such-dev0", "fd00::1/64"), /no link no-such-dev0/);
      assert.throws(
        () => p.addRoute({ dst: "10.0.0.0/8", dev: "lo", via: "fe80::1" }),
        /address families differ/,
      );
    } finally {
      p.close();
    }
  },
});

Deno.test({
  name: "plumb: sysctl applies inside the namespace only and is restored on close",
  ignore: !isRoot("plumb sysctl"),
  fn() {
    const u = uniq();
    const ns = addNetns(`${u}-sc`);
    const read = (where: string[]) =>
      sh([...where, "sysctl", "-n", "net.ipv6.conf.lo.disable_ipv6"]).trim();
    try {
      const here = read([]);
      assert.equal(read(["ip", "netns", "exec", ns]), "0");
      const p = new Plumber(ns);
      p.sysctl("net.ipv6.conf.lo.disable_ipv6", "1");
      assert.equal(read(["ip", "netns", "exec", ns]), "1");
      assert.equal(read([]), here, "our own namespace untouched");
      assert.throws(() => p.sysctl("../../etc/passwd", "x"), /not a dotted name/);
      p.close();
      assert.equal(read(["ip", "netns", "exec", ns]), "0", "restored");
    } finally {
      delNetns(ns);
    }
  },
});
