// Reusable zod field types for addresses: each says what was wrong and what would be right,
// because operators read these messages, not stack traces.

import { z } from "zod";
import { parseIp, parseIpv4, parseIpv6, parseMac } from "../packet/bytes.ts";

const show = (v: unknown) => JSON.stringify(v);

/** A MAC address `aa:bb:cc:dd:ee:ff`. */
export const mac = z.string().superRefine((v, ctx) => {
  if (!parseMac(v)) {
    ctx.addIssue({
      code: "custom",
      message: `${show(v)} is not a MAC address (expected six hex pairs)`,
    });
  }
});

/** An IPv4 or IPv6 address. */
export const ip = z.string().superRefine((v, ctx) => {
  if (!parseIp(v)) {
    ctx.addIssue({
      code: "custom",
      message: `${show(v)} is not an IP address (expected e.g. 10.0.0.5 or fd00::1)`,
    });
  }
});

/** An IPv4 address. */
export const ipv4 = z.string().superRefine((v, ctx) => {
  if (!parseIpv4(v)) {
    ctx.addIssue({ code: "custom", message: `${show(v)} is not an IPv4 address (e.g. 10.0.0.1)` });
  }
});

/** An IPv6 address. */
export const ipv6 = z.string().superRefine((v, ctx) => {
  if (!parseIpv6(v)) {
    ctx.addIssue({ code: "custom", message: `${show(v)} is not an IPv6 address (e.g. fd00::1)` });
  }
});

/** Parses `ADDR/LEN`; null when the address or length is wrong for its family. */
export function parsePrefix(s: string): { addr: Uint8Array; len: number } | null {
  const slash = s.lastIndexOf("/");
  if (slash < 0) return null;
  const addr = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  return len <= addr.length * 8 ? { addr, len } : null;
}

function prefixOf(family: "any" | "v4" | "v6") {
  const want = family === "v4" ? 4 : family === "v6" ? 16 : 0;
  const example = family === "v4" ? "10.0.0.0/24" : family === "v6" ? "fd00::/16" : "10.0.0.0/24";
  return z.string().superRefine((v, ctx) => {
    const p = parsePrefix(v);
    if (!p || (want && p.addr.length !== want)) {
      const what = family === "v4"
        ? "an IPv4 prefix"
        : family === "v6"
        ? "an IPv6 prefix"
        : "a prefix";
      ctx.addIssue({
        code: "custom",
        message: `${show(v)} is not ${what} (expected e.g. ${example})`,
      });
    }
  });
}

/** An address prefix `ADDR/LEN` of either family. */
export const prefix = prefixOf("any");
/** An IPv6 prefix. */
export const prefix6 = prefixOf("v6");

/** A network prefix: `ADDR/LEN` with the host bits zero (route destinations, subnets). */
export const network = z.string().superRefine((v, ctx) => {
  const p = parsePrefix(v);
  const hostBitsZero = p !== null && p.addr.every((b, i) => {
    const keep = Math.max(0, Math.min(8, p.len - 8 * i));
    return (b & (0xff >> keep)) === 0;
  });
  if (!hostBitsZero) {
    ctx.addIssue({
      code: "custom",
      message: `${
        show(v)
      } is not a network prefix (expected e.g. 10.0.0.0/24 or fd00::/64, host bits zero)`,
    });
  }
});

/** An address with its prefix length, as put on an interface (`10.0.0.5/24`). */
export const cidr = z.string().superRefine((v, ctx) => {
  if (!parsePrefix(v)) {
    ctx.addIssue({
      code: "custom",
      message: `${show(v)} is not an address with prefix length (expected e.g. 10.0.0.5/24)`,
    });
  }
});

/** A Geneve VNI (24 bits). */
export const vni = z.number().int().min(0).max(0xffffff);

/** A TCP/UDP port number. */
export const portNumber = z.number().int().min(0).max(65535);

/** `HOST:PORT` or `[V6]:PORT`. */
export const listen = z.string().superRefine((v, ctx) => {
  if (!parseListen(v)) {
    ctx.addIssue({
      code: "custom",
      message: `${
        show(v)
      } is not a listen address (expected ADDR:PORT, e.g. 127.0.0.1:7070 or [::1]:7070)`,
    });
  }
});

/** Splits `ADDR:PORT` / `[V6]:PORT`; null when malformed. */
export function parseListen(s: string): { hostname: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:\[\]]+):(\d{1,5})$/.exec(s);
  if (!m || !parseIp(m[1])) return null;
  const port = Number(m[2]);
  return port <= 65535 ? { hostname: m[1], port } : null;
}

/** A simple interface/port name (what Linux accepts for a link: 1–15 safe characters). */
export const linkName = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, {
  message: "is not a link name (1-15 of A-Z a-z 0-9 _ . -)",
});
