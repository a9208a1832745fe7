// Attached subnets and transit IPs of a port (upstream's `attached_subnets` / `transit_ips`):
// prefixes besides the private IP the guest may use. An attached subnet is owned by the NIC
// (both directions); an external one is a block of external addresses that skips NAT and may
// only talk to internet gateways. A transit IP is an exception per direction (allow-cidr).

import { type Cidr, cidrToString, parseCidr } from "../packet/addr.ts";
import { type FieldError, show, type Validated } from "./validate.ts";

/** Attached subnets and transit IPs as the control plane sends them. */
export interface PortSubnetsInput {
  attached: { cidr: string; external: boolean }[];
  transit: { cidr: string; allowIn: boolean; allowOut: boolean }[];
}

/** The validated form. */
export interface PortSubnets {
  readonly attached: readonly { readonly cidr: Cidr; readonly external: boolean }[];
  readonly transit: readonly {
    readonly cidr: Cidr;
    readonly allowIn: boolean;
    readonly allowOut: boolean;
  }[];
}

/** Validates attached subnets and transit IPs; every error names its field. */
export function validateSubnets(input: PortSubnetsInput): Validated<PortSubnets> {
  const errors: FieldError[] = [];
  const prefix = (s: unknown, field: string): Cidr | null => {
    const c = typeof s === "string" ? parseCidr(s) : null;
    if (!c) errors.push({ field, message: `${show(s)} is not a prefix with host bits zero` });
    return c;
  };
  const attached = input.attached.flatMap((a, i) => {
    const c = prefix(a.cidr, `attached[${i}].cidr`);
    return c ? [{ cidr: c, external: a.external }] : [];
  });
  const transit = input.transit.flatMap((t, i) => {
    const c = prefix(t.cidr, `transit[${i}].cidr`);
    return c ? [{ cidr: c, allowIn: t.allowIn, allowOut: t.allowOut }] : [];
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { attached, transit } };
}

/** The input form of validated subnets (for listing back). */
export function subnetsToInput(s: PortSubnets): PortSubnetsInput {
  return {
    attached: s.attached.map((a) => ({ cidr: cidrToString(a.cidr), external: a.external })),
    transit: s.transit.map((t) => ({
      cidr: cidrToString(t.cidr),
      allowIn: t.allowIn,
      allowOut: t.allowOut,
    })),
  };
}
