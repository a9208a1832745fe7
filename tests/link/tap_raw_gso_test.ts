// A zone with offload off still takes GSO frames: its TAP is opened with virtio-net headers but
// TUNSETOFFLOAD 0 (and tx/tso/gso/gro off on its side), and a loop here hands it, header and
// all, what a TSO-sending zone's TAP produced (64 KB GSO frames, NEEDS_CSUM). The receiving
// kernel is the judge: the seeded stream's SHA-256 matches and TcpInCsumErrors stays 0. What the
// raw zone itself sends must come out plain (gso_type NONE, no partial checksum).
import assert from "node:assert/strict";
import { TapLink } from "../../lib/link/tap.ts";
import { FrameBatch, VNET_HDR_LEN } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { VNET } from "../../ffi/layout.ts";
import { VNET_F_NEEDS_CSUM } from "../../lib/packet/virtio_net.ts";
import { addNetns, delNetns, isRoot, kernelCounter, sh, uniq } from "./netns.ts";
import { streamClient, streamServer } from "./stream.ts";

const PORT = 5601, MB = 16;
const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();

Deno.test({
  name: "tap: a zone with offload off receives GSO frames intact and sends plain frames",
  ignore: !isRoot("TAP GSO to a zone without offload"),
  async fn() {
    const u = uniq();
    const a = addNetns(`${u}-ra`), b = addNetns(`${u}-rb`);
    const links: TapLink[] = [];
    try {
      const full = VNET.TUN_F_CSUM | VNET.TUN_F_TSO4 | VNET.TUN_F_TSO6;
      const ta = TapLink.open({ name: `${u}a`, netns: a, offload: full });
      links.push(ta);
      const tb = TapLink.open({ name: `${u}b`, netns: b, offload: 0 });
      links.push(tb);
      assert.ok(tb.vnet && tb.offload === 0, "the raw zone's TAP carries headers, no offload");
      const mac = (t: TapLink) => Array.from(t.mac, (x) => x.toString(16).padStart(2, "0"));
      for (const [ns, t, me, peer, pt] of [[a, ta, "1", "2", tb], [b, tb, "2", "1", ta]] as const) {
        sh(["ip", "-n", ns, "addr", "add", `10.9.0.${me}/24`, "dev", t.name]);
        sh([
          "ip",
          "-n",
          ns,
          "neigh",
          "add",
          `10.9.0.${peer}`,
          "lladdr",
          mac(pt).join(":"),
          "dev",
          t.name,
        ]);
      }
      sh([
        "ip",
        "netns",
        "exec",
        b,
        "ethtool",
        "-K",
        tb.name,
        "tx",
        "off",
        "tso",
        "off",
        "gso",
        "off",
        "gro",
        "off",
      ]);
      const srv = new Deno.Command("ip", {
        args: ["netns", "exec", b, "python3", "-c", streamServer("10.9.0.2", PORT)],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      sh(["sleep", "0.4"]);
      const errorsBefore = kernelCounter(b, "TcpInCsumErrors");
      const client = new Deno.Command("ip", {
        args: ["netns", "exec", a, "python3", "-c", streamClient("10.9.0.2", PORT, MB)],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const cli = client.output();
      const got = srv.output();
      let done = false;
      got.finally(() => done = true);
      const ba = new FrameBatch(64, undefined, { vnet: true });
      const bb = new FrameBatch(64, undefined, { vnet: true });
      const p = new Poller([ta.fd, tb.fd]);
      let gso = 0, offloadedFromRaw = 0, fromRaw = 0, last = performance.now();
      const deadline = last + 30000;
      while (!done && performance.now() < deadline) {
        if (p.wait(1) > 0) {
          const n = ta.recv(ba);
          for (let i = 0; i < n; i++) if (ba.vnet![i * VNET_HDR_LEN + 1] !== 0) gso++;
          if (n) tb.send(ba, n);
          const m = tb.recv(bb);
          for (let i = 0; i < m; i++) {
            const o = i * VNET_HDR_LEN;
            if (bb.vnet![o + 1] !== 0 || (bb.vnet![o] & VNET_F_NEEDS_CSUM) !== 0) {
              offloadedFromRaw++;
            }
          }
          fromRaw += m;
          if (m) ta.send(bb, m);
        }
        if (performance.now() - last > 20) { // let the child processes' promises settle
          await new Promise((r) => setTimeout(r, 0));
          last = performance.now();
        }
      }
      if (!done) { // stalled: the stream cannot finish
        for (const proc of [srv, client]) {
          try {
            proc.kill();
          } catch { /* already gone */ }
        }
      }
      const [s, c] = [await got, await cli];
      assert.ok(c.success, decode(c.stderr));
      assert.equal(decode(s.stdout), decode(c.stdout), decode(s.stderr));
      assert.match(decode(c.stdout), new RegExp(`^${MB << 20} [0-9a-f]{64}$`));
      assert.ok(gso > 10, `GSO frames written to the raw zone: ${gso}`);
      assert.ok(fromRaw > 0 && offloadedFromRaw === 0, `${offloadedFromRaw} offloaded reads`);
      assert.equal(kernelCounter(b, "TcpInCsumErrors") - errorsBefore, 0);
    } finally {
      for (const t of links) t.close();
      delNetns(a);
      delNetns(b);
    }
  },
});
