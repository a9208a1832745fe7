// Worker for worker_test.ts: the datapath shape xdeno uses. Opens a PacketLink inside the
// worker, answers ARP/NDP/echo in a blocking poll(5 ms) loop until a SharedArrayBuffer flag
// stops it, then closes the link and reports its counters.
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { Poller } from "../../lib/link/poll.ts";
import { parseIpv4, parseIpv6 } from "../../lib/packet/bytes.ts";
import { answer } from "./netns.ts";

/** Start message. */
export interface EchoStart {
  netns: string;
  ifname: string;
  mac: number[];
  ip4: string;
  ip6: string;
  stop: SharedArrayBuffer;
}

const worker = self as unknown as {
  onmessage: (e: MessageEvent<EchoStart>) => void;
  postMessage(m: unknown): void;
};

worker.onmessage = (e) => {
  const o = e.data;
  const flag = new Int32Array(o.stop);
  const link = PacketLink.open({ netns: o.netns, ifname: o.ifname, promisc: true });
  const mac = Uint8Array.from(o.mac), ip4 = parseIpv4(o.ip4)!, ip6 = parseIpv6(o.ip6)!;
  const batch = new FrameBatch(64, 4096);
  const poller = new Poller([link.fd]);
  worker.postMessage({ ready: true });
  let loops = 0;
  while (Atomics.load(flag, 0) === 0) {
    loops++;
    if (poller.wait(5) <= 0) continue;
    const n = link.recv(batch);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const len = answer(batch.bufs[i].subarray(batch.offs[i]), batch.lens[i], mac, ip4, ip6);
      if (len === 0) continue;
      // compact answers to the front so one sendmmsg carries them all
      if (k !== i) {
        const t = batch.bufs[k];
        batch.bufs[k] = batch.bufs[i];
        batch.bufs[i] = t;
        batch.offs[k] = batch.offs[i];
      }
      batch.lens[k++] = len;
    }
    if (k) link.send(batch, k);
  }
  const target = Deno.readLinkSync(`/proc/self/fd/${link.fd}`);
  link.close();
  worker.postMessage({ stats: { ...link.stats }, loops, target });
};
