// Frames/s through our bindings, as root, in throwaway namespaces:
//   npx deno run -A tests/link/rate_tool.ts [seconds=2]
// Env: RX_ORDER=ring,ring3,mmsg (receive modes, in order); RX_LOOP=drain (poll only when a recv
// found nothing, as Switch.run does) or poll (poll before every recv); XDENO_POLL_SPIN_US
// (Poller spin before sleeping, see poll.ts); RING_FRAMES (slots of the V2 ring).
// TAP read/write and packet-socket rx/tx, batched and unbatched, 60-byte frames. Receive runs
// are fed by a generator Worker (PacketLink + sendmmsg) sharing the machine's cores.
import { TapLink } from "../../lib/link/tap.ts";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch, type Link } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import type { GenStart } from "./rate_gen.ts";
import { addNetns, delNetns, sh, uniq } from "./netns.ts";

const SECONDS = Number(Deno.args[0] ?? 2);
const RX_LOOP = Deno.env.get("RX_LOOP") ?? "drain";

function frame(b: FrameBatch, dst: Uint8Array, src: Uint8Array): void {
  for (let i = 0; i < b.capacity; i++) {
    const f = b.bufs[i], o = b.offs[i];
    f.set(dst, o);
    f.set(src, o + 6);
    f[o + 12] = 0x88;
    f[o + 13] = 0xb5;
    b.lens[i] = 60;
  }
}

/** Sends for SECONDS; `batch` frames per call (1: sendFrame). Returns accepted frames/s. */
function txRate(link: Link, batch: number, dst: Uint8Array): number {
  const b = new FrameBatch(batch, 256);
  frame(b, dst, link.mac);
  const end = performance.now() + SECONDS * 1000;
  let sent = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 64; k++) {
      sent += batch === 1
        ? (link.sendFrame(b.bufs[0], b.offs[0], 60) ? 1 : 0)
        : link.send(b, batch);
    }
  }
  return sent / SECONDS;
}

/** Receives for SECONDS with poll(1 ms) + recv of up to `batch` frames while a Worker feeds. */
async function rxRate(link: Link, batch: number, gen: Omit<GenStart, "stop">): Promise<number> {
  const stop = new SharedArrayBuffer(4);
  const w = new Worker(new URL("./rate_gen.ts", import.meta.url), { type: "module" });
  const msgs: { ready?: boolean; sent?: number }[] = [];
  let wake: (() => void) | null = null;
  w.onmessage = (e) => {
    msgs.push(e.data);
    wake?.();
  };
  const next = async () => {
    while (msgs.length === 0) await new Promise<void>((r) => wake = r);
    return msgs.shift()!;
  };
  w.postMessage({ ...gen, stop });
  await next();
  const b = new FrameBatch(batch, 2048);
  const p = new Poller([link.fd]);
  const before = link.stats.rxFrames;
  const end = performance.now() + SECONDS * 1000;
  // "poll": poll before every recv; "drain": poll only once recv finds nothing (Switch.run)
  if (RX_LOOP === "poll") {
    while (performance.now() < end) if (p.wait(1) > 0) link.recv(b);
  } else {
    while (performance.now() < end) {
      for (let k = 0; k < 64; k++) if (link.recv(b) === 0 && p.wait(1) <= 0) break;
    }
  }
  const got = link.stats.rxFrames - before;
  Atomics.store(new Int32Array(stop), 0, 1);
  const { sent } = await next();
  w.terminate();
  genSent = (sent ?? 0) / SECONDS;
  return got / SECONDS;
}

let genSent = 0;
const fmt = (x: number) => `${(x / 1e6).toFixed(3)} M/s`;

/** Frames the kernel counted as received on `dev` in `ns` (rx_packets). */
function rxPackets(ns: string, dev: string): number {
  const j = JSON.parse(sh(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev]));
  return j[0].stats64.rx.packets;
}

/** Runs a tx measurement and appends accepted and delivered (peer rx_packets) rates. */
function txRow(
  rows: [string, string][],
  label: string,
  ns: string,
  peer: string,
  run: () => number,
) {
  const before = rxPackets(ns, peer);
  const accepted = run();
  const delivered = (rxPackets(ns, peer) - before) / SECONDS;
  rows.push([label, `${fmt(accepted)} accepted, ${fmt(delivered)} delivered`]);
}

/** Runs an rx measurement and appends received and generated rates. */
async function rxRow(rows: [string, string][], label: string, run: () => Promise<number>) {
  const got = await run();
  rows.push([label, `${fmt(got)} received of ${fmt(genSent)} generated`]);
}

if (import.meta.main) {
  if (Deno.uid() !== 0) {
    console.error("rate_tool: needs root (network namespaces)");
    Deno.exit(2);
  }
  const u = uniq();
  const nsA = addNetns(`${u}-a`), nsB = addNetns(`${u}-b`);
  const rows: [string, string][] = [];
  try {
    sh(["ip", "link", "add", `${u}a`, "netns", nsA, "type", "veth", "peer", `${u}b`, "netns", nsB]);
    sh(["ip", "-n", nsA, "link", "set", `${u}a`, "up"]);
    sh(["ip", "-n", nsB, "link", "set", `${u}b`, "up"]);
    sh(["sleep", "0.3"]);
    const far = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
    const order = (Deno.env.get("RX_ORDER") ?? "ring,ring3,mmsg").split(",");
    for (const rx of order as ("ring" | "ring3" | "mmsg")[]) {
      const ringFrames = Number(Deno.env.get("RING_FRAMES") ?? 0) || undefined;
      const a = PacketLink.open({ netns: nsA, ifname: `${u}a`, rx, qdiscBypass: true, ringFrames });
      const peer = PacketLink.open({ netns: nsB, ifname: `${u}b` });
      const gen = { netns: nsB, ifname: `${u}b`, dst: [...a.mac] };
      peer.close();
      if (rx === "ring") {
        txRow(rows, "packet tx sendmmsg ×64", nsB, `${u}b`, () => txRate(a, 64, far));
        txRow(rows, "packet tx one frame/call", nsB, `${u}b`, () => txRate(a, 1, far));
        await rxRow(rows, "packet rx TPACKET_V2 ring, batch 64", () => rxRate(a, 64, gen));
      } else if (rx === "ring3") {
        await rxRow(rows, "packet rx TPACKET_V3 ring, batch 64", () => rxRate(a, 64, gen));
      } else {
        await rxRow(rows, "packet rx recvmmsg, batch 64", () => rxRate(a, 64, gen));
        await rxRow(rows, "packet rx recvmmsg, batch 1", () => rxRate(a, 1, gen));
      }
      a.close();
    }
    const tap = TapLink.open({ name: `${u}t`, netns: nsA });
    sh(["ip", "netns", "exec", nsA, "sysctl", "-qw", `net.ipv6.conf.${u}t.disable_ipv6=1`]);
    txRow(rows, "tap write (writev) one frame/call", nsA, `${u}t`, () => txRate(tap, 1, far));
    txRow(rows, "tap write, batch 64", nsA, `${u}t`, () => txRate(tap, 64, far));
    const tgen = { netns: nsA, ifname: `${u}t`, dst: [...tap.mac] };
    await rxRow(rows, "tap read (readv), batch 64", () => rxRate(tap, 64, tgen));
    await rxRow(rows, "tap read, batch 1 (poll per frame)", () => rxRate(tap, 1, tgen));
    tap.close();
  } finally {
    delNetns(nsA);
    delNetns(nsB);
  }
  console.log(`link rates, 60-byte frames, ${SECONDS} s each (${Deno.build.target})`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(40)} ${v}`);
}
