// Worker for rate_tool.ts: blasts 64-byte frames out of an interface through a PacketLink
// (sendmmsg, 64 per call) until the shared stop flag is set, then reports frames sent.
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";

/** Start message: where to send, and a SharedArrayBuffer whose word 0 becomes 1 to stop. */
export interface GenStart {
  netns: string;
  ifname: string;
  dst: number[];
  stop: SharedArrayBuffer;
}

// Typed view of the worker global (the files are checked with the window lib).
const worker = self as unknown as {
  onmessage: (e: MessageEvent<GenStart>) => void;
  postMessage(m: unknown): void;
};

worker.onmessage = (e: MessageEvent<GenStart>) => {
  const { netns, ifname, dst, stop } = e.data;
  const flag = new Int32Array(stop);
  const link = PacketLink.open({ netns, ifname, qdiscBypass: true });
  const b = new FrameBatch(64, 256);
  for (let i = 0; i < 64; i++) {
    const f = b.bufs[i], o = b.offs[i];
    f.set(dst, o);
    f.set(link.mac, o + 6);
    f[o + 12] = 0x88;
    f[o + 13] = 0xb5;
    b.lens[i] = 60;
  }
  worker.postMessage({ ready: true });
  let sent = 0;
  while (Atomics.load(flag, 0) === 0) sent += link.send(b, 64);
  link.close();
  worker.postMessage({ sent });
};
