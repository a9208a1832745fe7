// Worker for latency_tool.ts: bounces every frame it receives back to its sender (MACs
// swapped) from a PacketLink in a blocking poll loop, until the shared stop flag is set.
import { PacketLink, type PacketLinkOptions } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";

/** Start message: the link to bounce on, and a SharedArrayBuffer whose word 0 becomes 1. */
export interface PongStart {
  netns: string;
  ifname: string;
  rx: PacketLinkOptions["rx"];
  stop: SharedArrayBuffer;
}

const worker = self as unknown as {
  onmessage: (e: MessageEvent<PongStart>) => void;
  postMessage(m: unknown): void;
};

worker.onmessage = (e) => {
  const o = e.data;
  const flag = new Int32Array(o.stop);
  const link = PacketLink.open({ netns: o.netns, ifname: o.ifname, rx: o.rx, qdiscBypass: true });
  const b = new FrameBatch(64, 2048);
  const p = new Poller([link.fd]);
  const tmp = new Uint8Array(6);
  worker.postMessage({ ready: true });
  while (Atomics.load(flag, 0) === 0) {
    if (p.wait(5) <= 0) continue;
    const n = link.recv(b);
    for (let i = 0; i < n; i++) {
      const f = b.bufs[i], off = b.offs[i];
      tmp.set(f.subarray(off, off + 6));
      f.copyWithin(off, off + 6, off + 12);
      f.set(tmp, off + 6);
    }
    if (n) link.send(b, n);
  }
  link.close();
  worker.postMessage({ done: true });
};
