// A small etcd v3 client on etcd's JSON gateway (HTTP/JSON, the paths of etcd 3.4: /v3/kv/*,
// /v3/lease/*, /v3/watch) over `fetch`. It needs no .proto files and no Node module loading, so
// the single-file build runs fleet mode with it. Keys and values are base64 on the wire and
// strings here; int64 fields (revisions, lease ids) come as decimal strings. Several endpoints:
// requests stick to the one that answered last and move to the next on a network error, a
// timeout or "unavailable" (all tried once per request).

import { EtcdWatch, type WatchHandlers } from "./etcd_watch.ts";

/** How to reach the cluster. */
export interface EtcdOptions {
  endpoints: string[];
  /** How long one request waits for an endpoint (connect + answer) before trying the next. */
  dialTimeoutMs: number;
  /** PEM texts (not paths): the CA that signed the members' certificates, and a client pair. */
  tls?: { ca: string; cert?: string; key?: string };
}

/** One key as etcd stores it. */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  /** Lease id ("0": none). */
  lease: string;
}

/** A range answer. */
export interface RangeResult {
  /** The store revision the answer reflects. */
  revision: number;
  kvs: KeyValue[];
  /** More keys in the range than `limit`. */
  more: boolean;
}

/** A transaction guard: `target` of `key` == `value`. */
export type Compare =
  | { key: string; target: "CREATE" | "MOD" | "VERSION"; value: number }
  | { key: string; target: "LEASE"; value: string }
  | { key: string; target: "VALUE"; value: string };

/** A transaction step. */
export type Op =
  | { put: { key: string; value: string; lease?: string } }
  | { get: { key: string } }
  | { delete: { key: string } };

/** A transaction answer: which branch ran and, per step, the keys a `get` read. */
export interface TxnResult {
  succeeded: boolean;
  revision: number;
  responses: { kvs: KeyValue[] }[];
}

/** An error etcd answered with (gRPC status code and message), or a transport failure. */
export class EtcdError extends Error {
  constructor(message: string, readonly code: number | null, readonly endpoint: string) {
    super(message);
    this.name = "EtcdError";
  }
}

/** gRPC codes after which another member may do better: deadline exceeded, unavailable. */
const RETRYABLE = new Set([4, 14]);

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Base64 of a string's UTF-8 bytes. */
export function b64(s: string): string {
  let bin = "";
  for (const b of enc.encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The string whose UTF-8 bytes `s` is the base64 of ("" for absent). */
export function unb64(s: string | undefined): string {
  if (!s) return "";
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return dec.decode(bytes);
}

type Json = Record<string, unknown>;

/** A wire key-value (absent fields are proto3 zero values). */
export function keyValue(kv: Json): KeyValue {
  return {
    key: unb64(kv.key as string),
    value: unb64(kv.value as string | undefined),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
    lease: String(kv.lease ?? "0"),
  };
}

function op(o: Op): Json {
  if ("put" in o) {
    const p: Json = { key: b64(o.put.key), value: b64(o.put.value) };
    if (o.put.lease) p.lease = o.put.lease;
    return { request_put: p };
  }
  if ("get" in o) return { request_range: { key: b64(o.get.key) } };
  return { request_delete_range: { key: b64(o.delete.key) } };
}

const compareField = { CREATE: "create_revision", MOD: "mod_revision", VERSION: "version" };

function compare(c: Compare): Json {
  const base = { key: b64(c.key), result: "EQUAL", target: c.target };
  if (c.target === "LEASE") return { ...base, lease: c.value };
  if (c.target === "VALUE") return { ...base, value: b64(c.value) };
  return { ...base, [compareField[c.target]]: String(c.value) };
}

/** A connection to an etcd cluster through its JSON gateway. */
export class EtcdClient {
  private current = 0;
  private readonly http: Deno.HttpClient | undefined;
  private readonly watches = new Set<EtcdWatch>();

  constructor(readonly opts: EtcdOptions) {
    if (opts.endpoints.length === 0) throw new Error("etcd: no endpoints");
    const t = opts.tls;
    this.http = t
      ? Deno.createHttpClient(
        t.cert && t.key ? { caCerts: [t.ca], cert: t.cert, key: t.key } : { caCerts: [t.ca] },
      )
      : undefined;
  }

  /** The endpoint requests go to first. */
  get endpoint(): string {
    return this.opts.endpoints[this.current];
  }

  /** Moves to the next endpoint (after a failure on `failed`, unless another call moved already). */
  rotate(failed: string): void {
    if (this.endpoint === failed) this.current = (this.current + 1) % this.opts.endpoints.length;
  }

  /**
   * Starts a POST to `path` on the current endpoint; resolves with the response once its headers
   * arrive (within dialTimeoutMs). The caller reads the body; `signal` aborts it.
   */
  async open(path: string, body: Json, signal?: AbortSignal): Promise<[Response, string]> {
    const endpoint = this.endpoint;
    const ac = new AbortController();
    const abort = () => ac.abort();
    signal?.addEventListener("abort", abort);
    const timer = setTimeout(() => ac.abort(new Error("timed out")), this.opts.dialTimeoutMs);
    try {
      const res = await fetch(`${endpoint}${path}`, {
        method: "POST",
        // Watches on a member cut off from the leader end instead of going silently stale.
        headers: { "content-type": "application/json", "grpc-metadata-hasleader": "true" },
        body: JSON.stringify(body),
        signal: ac.signal,
        client: this.http,
      });
      return [res, endpoint];
    } catch (e) {
      if (signal?.aborted) throw e;
      const why = ac.signal.aborted
        ? `no answer in ${this.opts.dialTimeoutMs} ms`
        : tlsHint(errText(e), this.opts.tls);
      throw new EtcdError(`${endpoint}: ${why}`, null, endpoint);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    }
  }

  /** One unary call, tried on each endpoint in turn until one answers. */
  async call(path: string, body: Json): Promise<Json> {
    let last: EtcdError | null = null;
    for (let i = 0; i < this.opts.endpoints.length; i++) {
      try {
        const [res, endpoint] = await this.open(path, body);
        const timer = setTimeout(() => res.body?.cancel(), this.opts.dialTimeoutMs);
        let doc: Json;
        try {
          doc = JSON.parse(await res.text()) as Json;
        } catch (e) {
          throw new EtcdError(`${endpoint}: unreadable answer (${errText(e)})`, null, endpoint);
        } finally {
          clearTimeout(timer);
        }
        if (doc.error !== undefined || !res.ok) {
          const code = typeof doc.code === "number" ? doc.code : null;
          const msg = String(doc.message ?? doc.error ?? `HTTP ${res.status}`);
          throw new EtcdError(msg, code, endpoint);
        }
        return doc;
      } catch (e) {
        if (!(e instanceof EtcdError)) throw e;
        if (e.code !== null && !RETRYABLE.has(e.code)) throw e;
        last = e;
        this.rotate(e.endpoint);
      }
    }
    throw last!;
  }

  /** Keys from `key` (up to `end`, exclusive; only `key` without it), at `revision` if given. */
  async range(
    key: string,
    o: { end?: string; limit?: number; revision?: number } = {},
  ): Promise<RangeResult> {
    const body: Json = { key: b64(key) };
    if (o.end !== undefined) body.range_end = b64(o.end);
    if (o.limit) body.limit = String(o.limit);
    if (o.revision) body.revision = String(o.revision);
    const r = await this.call("/v3/kv/range", body);
    return {
      revision: Number((r.header as Json).revision),
      kvs: ((r.kvs ?? []) as Json[]).map(keyValue),
      more: r.more === true,
    };
  }

  /** Writes one key (attached to `lease` if given). */
  async put(key: string, value: string, lease?: string): Promise<void> {
    await this.call("/v3/kv/put", op({ put: { key, value, lease } }).request_put as Json);
  }

  /** Deletes one key. */
  async delete(key: string): Promise<void> {
    await this.call("/v3/kv/deleterange", { key: b64(key) });
  }

  /** If every compare holds, runs `success`, else `failure` — atomically. */
  async txn(compares: Compare[], success: Op[], failure: Op[] = []): Promise<TxnResult> {
    const r = await this.call("/v3/kv/txn", {
      compare: compares.map(compare),
      success: success.map(op),
      failure: failure.map(op),
    });
    return {
      succeeded: r.succeeded === true,
      revision: Number((r.header as Json).revision),
      responses: ((r.responses ?? []) as Json[]).map((x) => ({
        kvs: (((x.response_range as Json | undefined)?.kvs ?? []) as Json[]).map(keyValue),
      })),
    };
  }

  /** A new lease of `ttl` seconds; its id. */
  async grant(ttl: number): Promise<string> {
    const r = await this.call("/v3/lease/grant", { TTL: String(ttl) });
    return String(r.ID);
  }

  /** Refreshes a lease; its remaining TTL in seconds, 0 when etcd no longer has it. */
  async keepAlive(id: string): Promise<number> {
    const r = await this.call("/v3/lease/keepalive", { ID: id });
    return Number(((r.result ?? {}) as Json).TTL ?? 0);
  }

  /** Revokes a lease: every key attached to it goes. */
  async revoke(id: string): Promise<void> {
    await this.call("/v3/lease/revoke", { ID: id });
  }

  /** Watches keys from `key` to `end` from `startRevision` on (see EtcdWatch). */
  watch(key: string, end: string, startRevision: number, h: WatchHandlers): EtcdWatch {
    const w = new EtcdWatch(this, key, end, startRevision, h, () => this.watches.delete(w));
    this.watches.add(w);
    w.start();
    return w;
  }

  /** Ends every watch and the connection pool. */
  close(): void {
    for (const w of [...this.watches]) w.cancel();
    this.http?.close();
  }
}

/** A TLS failure's text with what to check (rustls says only what failed, not why). */
function tlsHint(msg: string, tls: EtcdOptions["tls"]): string {
  const m = /invalid peer certificate: (\w+)/.exec(msg);
  if (m) {
    return `TLS: the member's certificate is not trusted (${m[1]}): ` +
      (tls ? "it is not signed by the configured CA (tls.ca)" : "configure tls.ca");
  }
  if (/alert: (BadCertificate|CertificateRequired|UnknownCA)/.test(msg)) {
    const what = tls?.cert ? "our client certificate" : "us: no client certificate";
    return `TLS: the member refused ${what} ` +
      `(${msg.replace(/^.*alert: /, "")}): tls.cert and tls.key must be signed by a CA it trusts`;
  }
  if (tls && !tls.cert && /connection closed|reset|broken pipe|stream closed/i.test(msg)) {
    return `${msg} (a member with client-cert-auth closes TLS without tls.cert and tls.key)`;
  }
  return msg;
}

/** A transport error's text (fetch wraps the cause). */
export function errText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
}
