// One watch over etcd's JSON gateway: a streaming POST /v3/watch whose answer is one JSON object
// per line. It reconnects by itself (to the next endpoint, 100 ms doubling to 1 s with jitter,
// not the seconds a dead member would otherwise cost) and resumes after the last revision it
// delivered, so no event is lost or repeated. A start revision etcd has compacted ends it:
// the owner must read the state again.

import { b64, EtcdError, type KeyValue, keyValue } from "./etcd.ts";
import type { EtcdClient } from "./etcd.ts";

/** One change of one key. */
export interface WatchEvent {
  type: "put" | "delete";
  kv: KeyValue;
}

/** What the owner of a watch is told. */
export interface WatchHandlers {
  /** Changes, in revision order; `revision` is the store's newest revision when they were sent. */
  events(events: WatchEvent[], revision: number): void;
  /** The stream went up or down. */
  state(connected: boolean): void;
  /** etcd compacted past the next revision: the watch has ended. */
  compacted(compactRevision: number): void;
}

type Json = Record<string, unknown>;

/** A watch that keeps itself connected until canceled or compacted. */
export class EtcdWatch {
  /** Streams re-established after the first. */
  reconnects = 0;
  private readonly ac = new AbortController();
  private connected = false;
  private everConnected = false;
  private done = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly key: string,
    private readonly end: string,
    /** The next revision to receive. */
    private next: number,
    private readonly h: WatchHandlers,
    private readonly onEnd: () => void,
  ) {}

  /** Runs the stream in the background. */
  start(): void {
    this.loop();
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.done) {
      let endpoint = this.client.endpoint;
      try {
        const [res, ep] = await this.client.open("/v3/watch", {
          create_request: {
            key: b64(this.key),
            range_end: b64(this.end),
            start_revision: String(this.next),
          },
        }, this.ac.signal);
        endpoint = ep;
        if (!res.ok || !res.body) throw new EtcdError(`HTTP ${res.status}`, null, ep);
        if (await this.read(res.body)) backoff = 100;
      } catch {
        // Unreachable, reset or unreadable: the same answer to all, another endpoint.
      }
      if (this.done) break;
      this.setConnected(false);
      this.client.rotate(endpoint);
      await new Promise((r) => setTimeout(r, backoff * (0.5 + Math.random())));
      backoff = Math.min(backoff * 2, 1000);
    }
    this.onEnd();
  }

  /** Reads one stream to its end; true if it was established. */
  private async read(body: ReadableStream<Uint8Array>): Promise<boolean> {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "", created = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.done) return created;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === "") continue;
          const msg = JSON.parse(line) as Json;
          if (msg.error !== undefined) return created;
          const r = (msg.result ?? {}) as Json;
          if (r.created === true) {
            created = true;
            if (this.everConnected) this.reconnects++;
            this.everConnected = true;
            this.setConnected(true);
          }
          if (r.canceled === true) {
            const compact = Number(r.compact_revision ?? 0);
            if (compact > 0) {
              this.done = true;
              this.setConnected(false);
              this.h.compacted(compact);
            }
            return created;
          }
          const evs = (r.events ?? []) as Json[];
          if (evs.length === 0) continue;
          const out = evs.map((ev): WatchEvent => ({
            type: ev.type === "DELETE" ? "delete" : "put",
            kv: keyValue(ev.kv as Json),
          }));
          this.next = Math.max(this.next, ...out.map((e) => e.kv.modRevision + 1));
          this.h.events(out, Number((r.header as Json).revision));
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  private setConnected(up: boolean): void {
    if (this.connected === up) return;
    this.connected = up;
    this.h.state(up);
  }

  /** Ends the watch (no more handler calls). */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.ac.abort();
    this.onEnd();
  }
}
