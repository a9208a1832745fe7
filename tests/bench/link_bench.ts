// Per-call costs of the link layer through FFI (root: builds a throwaway namespace with a TAP
// and a veth pair). Frame rates with a generator: tests/link/rate_tool.ts.
import { TapLink } from "../../lib/link/tap.ts";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { addNetns, delNetns, sh, uniq } from "../link/netns.ts";

const root = Deno.uid() === 0;
if (!root) console.warn("SKIP link benches: need root (network namespaces)");

if (root) {
  const u = uniq();
  const ns = addNetns(`${u}-bench`);
  sh(["ip", "link", "add", `${u}a`, "netns", ns, "type", "veth", "peer", `${u}b`, "netns", ns]);
  sh(["ip", "-n", ns, "link", "set", `${u}a`, "up"]);
  sh(["ip", "-n", ns, "link", "set", `${u}b`, "up"]);
  const tap = TapLink.open({ name: `${u}t`, netns: ns });
  const pkt = PacketLink.open({ netns: ns, ifname: `${u}a`, qdiscBypass: true });
  // on the TAP: nothing is sent there, so its ring stays empty
  const pkt3 = PacketLink.open({ netns: ns, ifname: `${u}t`, rx: "ring3" });
  const far = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
  const b = new FrameBatch(64, 256);
  for (let i = 0; i < 64; i++) {
    b.bufs[i].set(far, b.offs[i]);
    b.bufs[i].set(pkt.mac, b.offs[i] + 6);
    b.bufs[i][b.offs[i] + 12] = 0x88;
    b.bufs[i][b.offs[i] + 13] = 0xb5;
    b.lens[i] = 60;
  }
  const rx = new FrameBatch(64, 2048);
  const poller = new Poller([tap.fd, pkt.fd]);
  const ringPoll = new Poller([pkt.fd]);
  globalThis.addEventListener("unload", () => {
    tap.close();
    pkt.close();
    pkt3.close();
    delNetns(ns);
  });

  Deno.bench("poll(2), 2 fds, timeout 0", { group: "syscall" }, () => {
    poller.wait(0);
  });
  Deno.bench("tap: write one 60 B frame (writev)", { group: "tap" }, () => {
    if (!tap.sendFrame(b.bufs[0], b.offs[0], 60)) throw new Error("tap: frame not written");
  });
  Deno.bench("tap: recv on an empty device (readv → EAGAIN)", { group: "tap" }, () => {
    tap.recv(rx);
  });
  Deno.bench("packet: send 64 × 60 B frames (sendmmsg)", { group: "packet" }, () => {
    if (pkt.send(b, 64) !== 64) throw new Error("packet: not all 64 frames sent");
  });
  Deno.bench("packet: send one 60 B frame (sendmmsg, 1)", { group: "packet" }, () => {
    if (!pkt.sendFrame(b.bufs[0], b.offs[0], 60)) throw new Error("packet: frame not sent");
  });
  Deno.bench("poll(2), 1 packet fd (V2 ring), timeout 0", { group: "syscall" }, () => {
    ringPoll.wait(0);
  });
  Deno.bench("packet: V2 ring recv with nothing ready", { group: "packet" }, () => {
    pkt.recv(rx);
  });
  Deno.bench("packet: V3 ring recv with nothing ready", { group: "packet" }, () => {
    pkt3.recv(rx);
  });
}
