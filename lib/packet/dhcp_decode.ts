// DHCPv4 options into a Repr: every option of a validated message decoded once.

import { u16, u32 } from "./bytes.ts";
import { type ParseError, parseError } from "./error.ts";
import { decodeDnsNames, latin1 } from "./dns_names.ts";
import {
  type ClasslessRoute,
  type DhcpRepr,
  DhcpView,
  OPT_CLASSLESS_ROUTES,
  OPT_CLIENT_ID,
  OPT_DNS,
  OPT_DOMAIN_NAME,
  OPT_DOMAIN_SEARCH,
  OPT_END,
  OPT_HOSTNAME,
  OPT_LEASE_TIME,
  OPT_MESSAGE_TYPE,
  OPT_MTU,
  OPT_PAD,
  OPT_PARAM_REQUEST,
  OPT_REQUESTED_IP,
  OPT_ROUTER,
  OPT_SERVER_ID,
  OPT_SUBNET_MASK,
  OPT_T1,
  OPT_T2,
} from "./dhcp.ts";

/** Decodes every option of a validated message; a bad option body is a ParseError. */
export function dhcpReprParse(v: DhcpView): DhcpRepr | ParseError {
  const b = v.buf;
  const repr: DhcpRepr = {
    op: v.op,
    htype: v.htype,
    hops: v.hops,
    xid: v.xid,
    secs: v.secs,
    flags: v.flags,
    ciaddr: b.slice(v.ciaddrOff, v.ciaddrOff + 4),
    yiaddr: b.slice(v.yiaddrOff, v.yiaddrOff + 4),
    siaddr: b.slice(v.siaddrOff, v.siaddrOff + 4),
    giaddr: b.slice(v.giaddrOff, v.giaddrOff + 4),
    chaddr: b.slice(v.chaddrOff, v.chaddrOff + v.hlen),
  };
  // RFC 3396: repeated instances of one option are concatenated, in order.
  const data = new Map<number, Uint8Array>();
  const firstAt = new Map<number, number>();
  let i = v.optionsOff;
  while (i < v.end && b[i] !== OPT_END) {
    if (b[i] === OPT_PAD) {
      i++;
      continue;
    }
    const code = b[i], len = b[i + 1], body = b.subarray(i + 2, i + 2 + len);
    const prev = data.get(code);
    if (prev) {
      const joined = new Uint8Array(prev.length + len);
      joined.set(prev);
      joined.set(body, prev.length);
      data.set(code, joined);
    } else {
      data.set(code, body.slice());
      firstAt.set(code, i);
    }
    i += 2 + len;
  }
  for (const [code, d] of data) {
    const err = decodeOption(repr, code, d, firstAt.get(code)!);
    if (err) return err;
  }
  return repr;
}

function decodeOption(r: DhcpRepr, code: number, d: Uint8Array, at: number): ParseError | null {
  const bad = () => parseError("malformed", `dhcp.option${code}`, at);
  const fixed = (n: number) => d.length === n;
  switch (code) {
    case OPT_MESSAGE_TYPE:
      if (!fixed(1)) return bad();
      r.messageType = d[0];
      return null;
    case OPT_SUBNET_MASK:
    case OPT_SERVER_ID:
    case OPT_REQUESTED_IP:
      if (!fixed(4)) return bad();
      if (code === OPT_SUBNET_MASK) r.subnetMask = d;
      else if (code === OPT_SERVER_ID) r.serverId = d;
      else r.requestedIp = d;
      return null;
    case OPT_ROUTER:
    case OPT_DNS: {
      if (d.length === 0 || d.length % 4 !== 0) return bad();
      const list: Uint8Array[] = [];
      for (let k = 0; k < d.length; k += 4) list.push(d.slice(k, k + 4));
      if (code === OPT_ROUTER) r.routers = list;
      else r.dnsServers = list;
      return null;
    }
    case OPT_LEASE_TIME:
    case OPT_T1:
    case OPT_T2:
      if (!fixed(4)) return bad();
      if (code === OPT_LEASE_TIME) r.leaseTime = u32(d, 0);
      else if (code === OPT_T1) r.renewalTime = u32(d, 0);
      else r.rebindingTime = u32(d, 0);
      return null;
    case OPT_MTU:
      if (!fixed(2) || u16(d, 0) < 68) return bad();
      r.mtu = u16(d, 0);
      return null;
    case OPT_HOSTNAME:
    case OPT_DOMAIN_NAME: {
      if (d.length === 0) return bad();
      // Some clients count a trailing NUL in the length.
      const s = latin1(d, 0, d[d.length - 1] === 0 ? d.length - 1 : d.length);
      if (code === OPT_HOSTNAME) r.hostname = s;
      else r.domainName = s;
      return null;
    }
    case OPT_PARAM_REQUEST:
      if (d.length === 0) return bad();
      r.parameterRequestList = Array.from(d);
      return null;
    case OPT_CLIENT_ID:
      if (d.length < 2) return bad();
      r.clientId = d;
      return null;
    case OPT_DOMAIN_SEARCH: {
      const names = decodeDnsNames(d, true);
      if (!Array.isArray(names)) return parseError(names.kind, "dhcp.option119", at);
      r.domainSearch = names;
      return null;
    }
    case OPT_CLASSLESS_ROUTES: {
      const routes = decodeClasslessRoutes(d);
      if (!routes) return bad();
      r.classlessRoutes = routes;
      return null;
    }
    default:
      (r.other ??= []).push({ code, data: d });
      return null;
  }
}

function decodeClasslessRoutes(d: Uint8Array): ClasslessRoute[] | null {
  const out: ClasslessRoute[] = [];
  let i = 0;
  while (i < d.length) {
    const width = d[i];
    if (width > 32) return null;
    const sig = (width + 7) >> 3;
    if (i + 1 + sig + 4 > d.length) return null;
    const dest = new Uint8Array(4);
    dest.set(d.subarray(i + 1, i + 1 + sig));
    out.push({ dest, prefixLen: width, router: d.slice(i + 1 + sig, i + 5 + sig) });
    i += 5 + sig;
  }
  return out.length ? out : null;
}
