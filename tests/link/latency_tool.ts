// Round-trip time of one frame through two packet-socket links, each woken by poll(2) — the
// cost a switch hop pays for an idle link to notice a lone frame. As root:
//   npx deno run -A tests/link/latency_tool.ts [rounds=2000] [modes=ring,ring3,mmsg]
// A Worker in namespace B bounces frames; the main thread in A sends one, sleeps in poll until
// the echo is back, and repeats. Both ends use the same receive mode.
import { PacketLink, type PacketLinkOptions } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import type { PongStart } from "./pong_worker.ts";
import { addNetns, delNetns, sh, uniq } from "./netns.ts";

type Rx = NonNullable<PacketLinkOptions["rx"]>;

/** p50/p90/p99/max of `xs` (µs) and lost rounds. */
export interface RttSummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  lost: number;
}

/** Sorted-sample percentiles. */
function summarize(xs: number[], lost: number): RttSummary {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))] ?? NaN;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] ?? NaN, lost };
}

/** Measures `rounds` ping-pongs over a fresh veth pair with receive mode `rx` on both ends. */
export async function measureRtt(rx: Rx, rounds: number): Promise<RttSummary> {
  const u = uniq();
  const nsA = addNetns(`${u}-a`), nsB = addNetns(`${u}-b`);
  const stop = new SharedArrayBuffer(4);
  const w = new Worker(new URL("./pong_worker.ts", import.meta.url), { type: "module" });
  try {
    sh(["ip", "link", "add", `${u}a`, "netns", nsA, "type", "veth", "peer", `${u}b`, "netns", nsB]);
    for (const [ns, d] of [[nsA, `${u}a`], [nsB, `${u}b`]]) {
      sh(["ip", "netns", "exec", ns, "sysctl", "-qw", `net.ipv6.conf.${d}.disable_ipv6=1`]);
      sh(["ip", "-n", ns, "link", "set", d, "up"]);
    }
    sh(["sleep", "0.3"]);
    const ready = new Promise((r) => w.onmessage = r);
    w.postMessage({ netns: nsB, ifname: `${u}b`, rx, stop } satisfies PongStart);
    await ready;
    const a = PacketLink.open({ netns: nsA, ifname: `${u}a`, rx, qdiscBypass: true });
    const peer = Uint8Array.of(0x02, 0, 0, 0, 0, 0x77);
    const out = new FrameBatch(1, 256), inb = new FrameBatch(64, 2048);
    const f = out.bufs[0], o = out.offs[0];
    f.set(peer, o);
    f.set(a.mac, o + 6);
    f[o + 12] = 0x88;
    f[o + 13] = 0xb5;
    out.lens[0] = 60;
    const p = new Poller([a.fd]);
    const rtts: number[] = [];
    let lost = 0;
    for (let r = 0; r < rounds + 50; r++) {
      f[o + 14] = r & 0xff;
      f[o + 15] = (r >> 8) & 0xff;
      const t0 = performance.now();
      a.send(out, 1);
      let back = false;
      while (!back && performance.now() - t0 < 200) {
        if (p.wait(100) <= 0) continue;
        const n = a.recv(inb);
        for (let i = 0; i < n; i++) {
          const g = inb.bufs[i], go = inb.offs[i];
          if (g[go + 14] === (r & 0xff) && g[go + 15] === ((r >> 8) & 0xff)) back = true;
        }
      }
      // the first rounds warm up JIT and caches
      if (r >= 50) back ? rtts.push((performance.now() - t0) * 1000) : lost++;
    }
    a.close();
    return summarize(rtts, lost);
  } finally {
    const done = new Promise((r) => w.onmessage = r);
    Atomics.store(new Int32Array(stop), 0, 1);
    await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
    w.terminate();
    delNetns(nsA);
    delNetns(nsB);
  }
}

if (import.meta.main) {
  if (Deno.uid() !== 0) {
    console.error("latency_tool: needs root (network namespaces)");
    Deno.exit(2);
  }
  const rounds = Number(Deno.args[0] ?? 2000);

  const modes = (Deno.args[1] ?? "ring,ring3,mmsg").split(",") as Rx[];
  console.log(`frame RTT through two poll-woken packet links, ${rounds} rounds (µs)`);
  for (const m of modes) {
    const s = await measureRtt(m, rounds);
    const f = (x: number) => x.toFixed(0).padStart(6);
    console.log(
      `  ${m.padEnd(6)} p50 ${f(s.p50)}  p90 ${f(s.p90)}  p99 ${f(s.p99)}  max ${f(s.max)}` +
        `  lost ${s.lost}`,
    );
  }
}
