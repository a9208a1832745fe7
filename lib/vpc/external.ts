// External addressing of a port: SNAT (one IP plus a port range, separate pools for TCP, UDP
// and ICMP echo ids), an ephemeral IP and floating IPs (1:1), and attached subnets (tag only).
// Outbound choice: a floating IP by flow hash, else the ephemeral IP, else SNAT, else deny.

import { ipToString, parseIp } from "../packet/bytes.ts";
import { addrWordsInto, type Cidr, parseCidr } from "../packet/addr.ts";
import { type FieldError, show, type Validated } from "./validate.ts";
import { InvalidField } from "../contract/field_error.ts";

/**
 * A pool of L4 ports (or ICMP echo ids) of one SNAT address. As upstream's free list (a stack of
 * the range in ascending order), the highest free port goes first and a released port is the
 * next one handed out (last in, first out), so port-exact expectations from upstream hold.
 */
export class PortPool {
  readonly #stack: Uint16Array;
  readonly #inUse: Uint8Array;
  #count: number;
  /** Allocation attempts that found the pool empty. */
  exhausted = 0;

  constructor(readonly lo: number, readonly hi: number) {
    const n = hi - lo + 1;
    this.#stack = new Uint16Array(n);
    for (let i = 0; i < n; i++) this.#stack[i] = lo + i;
    this.#inUse = new Uint8Array(n);
    this.#count = n;
  }

  /** Ports free right now. */
  get available(): number {
    return this.#count;
  }

  /** Ports held by flows. */
  get inUse(): number {
    return this.#stack.length - this.#count;
  }

  /** Takes the top of the free stack; -1 (and a counted exhaustion) when none is free. */
  allocate(): number {
    if (this.#count === 0) {
      this.exhausted++;
      return -1;
    }
    const p = this.#stack[--this.#count];
    this.#inUse[p - this.lo] = 1;
    return p;
  }

  /** Gives a port back; false when it was not allocated (double release is harmless). */
  release(port: number): boolean {
    if (port < this.lo || port > this.hi || this.#inUse[port - this.lo] === 0) return false;
    this.#inUse[port - this.lo] = 0;
    this.#stack[this.#count++] = port;
    return true;
  }
}

/** SNAT of one address family: the external IP and one pool per protocol. */
export class SnatPools {
  readonly ip: Uint8Array;
  readonly tcp: PortPool;
  readonly udp: PortPool;
  readonly icmp: PortPool;

  constructor(ip: string, lo: number, hi: number) {
    const b = parseIp(ip);
    if (!b) throw new InvalidField("snat.ip", `"${ip}" is not an IP address`);
    this.ip = b;
    this.tcp = new PortPool(lo, hi);
    this.udp = new PortPool(lo, hi);
    this.icmp = new PortPool(lo, hi);
  }

  /** The pool for an IP protocol number (ICMP and ICMPv6 echo share one), or null. */
  pool(proto: number): PortPool | null {
    if (proto === 6) return this.tcp;
    if (proto === 17) return this.udp;
    if (proto === 1 || proto === 58) return this.icmp;
    return null;
  }
}

/** External addressing of one family, as configured. */
export interface ExternalIpConfig {
  snat?: { ip: string; ports: string };
  ephemeralIp?: string;
  floatingIps?: string[];
  attachedSubnets?: string[];
  /** Which internet gateways (ids) may use an address; an address absent here serves only
   * internet-gateway targets without an id (upstream's `inet_gw_map`). */
  inetGwMap?: Record<string, string[]>;
}

/** Validated external addressing of one family. */
export interface ExternalIps {
  readonly af: 4 | 6;
  readonly snat: { ip: Uint8Array; lo: number; hi: number } | null;
  readonly ephemeral: Uint8Array | null;
  readonly floating: readonly Uint8Array[];
  readonly attached: readonly Cidr[];
  /** Canonical address text → the gateway ids that may use it. */
  readonly inetGw: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Validates one family's external IP config; every error names its field under `where`. */
export function validateExternalIps(
  input: ExternalIpConfig,
  af: 4 | 6,
  where = `external.v${af}`,
): Validated<ExternalIps> {
  const errors: FieldError[] = [];
  const addr = (s: unknown, field: string): Uint8Array | null => {
    const b = typeof s === "string" ? parseIp(s) : null;
    if (!b) errors.push({ field, message: `${show(s)} is not an IP address` });
    else if ((b.length === 4 ? 4 : 6) !== af) {
      errors.push({ field, message: `${s} is not an IPv${af} address` });
      return null;
    }
    return b;
  };
  let snat: ExternalIps["snat"] = null;
  if (input.snat !== undefined) {
    const ip = addr(input.snat.ip, `${where}.snat.ip`);
    const m = /^(\d{1,5})-(\d{1,5})$/.exec(String(input.snat.ports ?? "").trim());
    const lo = m ? Number(m[1]) : -1, hi = m ? Number(m[2]) : -1;
    if (!m || lo < 1 || hi > 65535 || lo > hi) {
      errors.push({
        field: `${where}.snat.ports`,
        message: `${show(input.snat.ports)} is not a port range (expected lo-hi within 1-65535)`,
      });
    } else if (ip) snat = { ip, lo, hi };
  }
  const ephemeral = input.ephemeralIp === undefined
    ? null
    : addr(input.ephemeralIp, `${where}.ephemeralIp`);
  const floating: Uint8Array[] = [];
  (input.floatingIps ?? []).forEach((s, i) => {
    const b = addr(s, `${where}.floatingIps[${i}]`);
    if (b) floating.push(b);
  });
  const attached: Cidr[] = [];
  (input.attachedSubnets ?? []).forEach((s, i) => {
    const c = typeof s === "string" ? parseCidr(s) : null;
    if (!c || c.af !== af) {
      errors.push({
        field: `${where}.attachedSubnets[${i}]`,
        message: `${show(s)} is not an IPv${af} prefix`,
      });
    } else attached.push(c);
  });
  const inetGw = new Map<string, Set<string>>();
  for (const [k, ids] of Object.entries(input.inetGwMap ?? {})) {
    const b = parseIp(k);
    // The map covers both families (as upstream's request does): keep this family's entries.
    if (!b) {
      errors.push({ field: `inetGwMap.${k}`, message: `${show(k)} is not an IP address` });
    } else if ((b.length === 4 ? 4 : 6) === af) {
      inetGw.set(ipToString(b), new Set(ids.map((id) => id.toLowerCase())));
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { af, snat, ephemeral, floating, attached, inetGw } };
}

/** Kinds of outbound external address choice. */
export const EXT_NONE = 0;
export const EXT_FLOATING = 1;
export const EXT_EPHEMERAL = 2;
export const EXT_SNAT = 3;

/** True when `ip` may serve internet gateway `igw` (null: a target without an id). */
export function servesGateway(ext: ExternalIps, ip: Uint8Array, igw: string | null): boolean {
  const ids = ext.inetGw.get(ipToString(ip));
  return ids === undefined ? igw === null : igw !== null && ids.has(igw);
}

/**
 * Which external address a new outbound flow to internet gateway `igw` uses: a floating IP of
 * that gateway by flow hash, else its ephemeral IP, else its SNAT, else none (EXT_* kind).
 */
export function chooseExternal(
  ext: ExternalIps | null,
  flowHash: number,
  igw: string | null = null,
): { kind: number; ip: Uint8Array | null } {
  if (!ext) return { kind: EXT_NONE, ip: null };
  const fips = ext.floating.filter((ip) => servesGateway(ext, ip, igw));
  if (fips.length > 0) return { kind: EXT_FLOATING, ip: fips[(flowHash >>> 0) % fips.length] };
  if (ext.ephemeral && servesGateway(ext, ext.ephemeral, igw)) {
    return { kind: EXT_EPHEMERAL, ip: ext.ephemeral };
  }
  if (ext.snat && servesGateway(ext, ext.snat.ip, igw)) return { kind: EXT_SNAT, ip: ext.snat.ip };
  return { kind: EXT_NONE, ip: null };
}

/** True when `ip` is still one of the port's 1:1 or SNAT addresses (existing flows keep it). */
export function stillAssigned(ext: ExternalIps | null, ip: Uint8Array): boolean {
  if (!ext) return false;
  const same = (a: Uint8Array | null | undefined) =>
    !!a && a.length === ip.length && a.every((x, i) => x === ip[i]);
  return same(ext.ephemeral) || same(ext.snat?.ip) || ext.floating.some(same);
}

/** True when an inbound destination is one of the 1:1 addresses (floating or ephemeral). */
export function isOneToOne(ext: ExternalIps | null, ip: Uint8Array): boolean {
  if (!ext) return false;
  const same = (a: Uint8Array | null) => !!a && a.every((x, i) => x === ip[i]);
  return same(ext.ephemeral) || ext.floating.some(same);
}

/** Word form of an address (for predicates and flow keys). */
export function ipWords(ip: Uint8Array): Uint32Array {
  const w = new Uint32Array(4);
  addrWordsInto(ip, w);
  return w;
}

/** Text form for dumps. */
export function externalToJson(e: ExternalIps): Record<string, unknown> {
  return {
    snat: e.snat ? { ip: ipToString(e.snat.ip), ports: `${e.snat.lo}-${e.snat.hi}` } : null,
    ephemeralIp: e.ephemeral ? ipToString(e.ephemeral) : null,
    floatingIps: e.floating.map(ipToString),
    inetGwMap: Object.fromEntries([...e.inetGw].map(([ip, ids]) => [ip, [...ids]])),
  };
}
