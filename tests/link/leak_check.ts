// Run by leak_test.ts in a process of its own (deno test --parallel shares one process between
// test files, so fd accounting is only exact here). Opens and closes every kind of resource
// the link layer creates, through success and error paths, and prints what is left.
import { TapLink } from "../../lib/link/tap.ts";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { DlpiLink } from "../../lib/link/dlpi.ts";
import { LinkMonitor } from "../../lib/link/monitor.ts";
import { LinkSet } from "../../lib/link/open.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { buildShared } from "../ffi/cc.ts";
import { addNetns, delNetns, fdCount, linkNames, sh, socketMaps, uniq } from "./netns.ts";

const shimPath = Deno.args[0];
const u = uniq();
const nsA = addNetns(`${u}-la`), nsB = addNetns(`${u}-lb`);
const report: Record<string, unknown> = {};
let builtDir: string | null = null;
const attempt = (f: () => unknown) => {
  try {
    f();
  } catch {
    // error paths are the point here
  }
};
try {
  sh(["ip", "link", "add", `${u}a`, "netns", nsA, "type", "veth", "peer", `${u}b`, "netns", nsB]);
  sh(["ip", "-n", nsA, "link", "set", `${u}a`, "up"]);
  sh(["ip", "-n", nsB, "link", "set", `${u}b`, "up"]);
  const built = shimPath ? null : buildShared("ffi/dlpi_shim.c");
  builtDir = built?.dir ?? null;
  const shim = built ?? { lib: shimPath };
  // warm up: libraries, lazily created runtime fds
  DlpiLink.open({ netns: nsA, linkname: `${u}a`, library: shim.lib }).close();
  PacketLink.open({ netns: nsA, ifname: `${u}a` }).close();
  const fds = fdCount(), maps = socketMaps();
  for (let round = 0; round < 3; round++) {
    const rx = new FrameBatch(8, 2048);
    for (const mode of ["ring", "mmsg"] as const) {
      const l = PacketLink.open({
        netns: nsA,
        ifname: `${u}a`,
        rx: mode,
        promisc: true,
        allmulti: true,
      });
      l.joinMulticast(Uint8Array.of(0x33, 0x33, 0xff, 0, 0, 1));
      l.recv(rx);
      l.close();
    }
    TapLink.openQueues({ name: `${u}t`, netns: nsB, mtu: 1400 }, 2).forEach((t) => t.close());
    TapLink.open({ name: `${u}t` }).close();
    TapLink.open({ name: `${u}o`, netns: nsB, offload: 0x7 }).close();
    PacketLink.open({ netns: nsA, ifname: `${u}a`, vnetHdr: true }).close();
    PacketLink.open({ netns: nsA, ifname: `${u}a`, vnetHdr: true, rx: "mmsg" }).close();
    DlpiLink.open({ netns: nsA, linkname: `${u}a`, library: shim.lib, promisc: true }).close();
    new LinkMonitor(nsA).close();
    const set = new LinkSet();
    set.openAll([{ kind: "packet", ifname: `${u}b`, netns: nsB }, {
      kind: "tap",
      name: `${u}s`,
      netns: nsA,
    }]);
    const p = set.plumber(nsA);
    p.addAddress(`${u}s`, "fd00:1::1/64");
    p.addRoute({ dst: "fd00::/16", dev: `${u}s`, via: "fe80::1" });
    p.sysctl(`net.ipv6.conf.${u}s.accept_ra`, "0");
    attempt(() =>
      set.openAll([{ kind: "tap", name: `${u}x`, netns: nsA }, {
        kind: "packet",
        ifname: "nosuch0",
      }])
    );
    set.close();
    attempt(() => TapLink.open({ name: `${u}e`, mtu: 10 }));
    attempt(() => TapLink.open({ name: `${u}f`, netns: "xdt-no-such-ns" }));
    attempt(() => TapLink.open({ name: "a-name-longer-than-15" }));
    attempt(() => PacketLink.open({ netns: nsA, ifname: "nosuch0" }));
    attempt(() => PacketLink.open({ netns: nsA, ifname: `${u}a`, blockSize: 5000 }));
    attempt(() => PacketLink.open({ netns: "xdt-no-such-ns", ifname: `${u}a` }));
    attempt(() => DlpiLink.open({ netns: nsA, linkname: "nosuch0", library: shim.lib }));
  }
  report.fds = [fds, fdCount()];
  report.maps = [maps, socketMaps()];
  report.links = [...linkNames(null), ...linkNames(nsA), ...linkNames(nsB)].filter((n) =>
    n.startsWith(u) && n !== `${u}a` && n !== `${u}b`
  );
  report.addrs = sh(["ip", "-n", nsA, "addr"]).includes("fd00:1::1");
} finally {
  delNetns(nsA);
  delNetns(nsB);
  if (builtDir) Deno.removeSync(builtDir, { recursive: true });
}
console.log(JSON.stringify(report));
