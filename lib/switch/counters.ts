// Why the switch dropped (or consumed) a frame. Counted per reason in a Float64Array so the
// packet loop only ever does `counts[REASON]++`.

/** Drop reasons, in counter order. */
export const DROP_REASONS = [
  "parse",
  "l2-dst",
  "spoofed-source",
  "no-overlay",
  "link-local-dst",
  "hop-limit",
  "no-local-port",
  "no-route",
  "no-next-hop",
  "too-big",
  "port-loop",
  "ndp-invalid",
  "ndp-ignored",
  "multicast",
  "non-ip",
  "tx-full",
  "port-down",
  "vpc",
  "vpc-error",
  "vpc-not-encap",
  "no-overlay-port",
  "internal",
  "gso",
  "bad-checksum",
  "geneve-critical",
  "uso-malformed",
] as const;

/** A drop reason's name. */
export type DropReason = typeof DROP_REASONS[number];

/** Counter index of each reason. */
export const DROP = Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])) as {
  readonly [K in DropReason]: number;
};

/** What the switch did besides dropping, in counter order. */
export const EVENTS = [
  "delivered-local",
  "forwarded-underlay",
  "delivered-from-underlay",
  "na-sent",
  "ns-sent",
  "ra-sent",
  "na-learned",
  "ptb-sent",
  "time-exceeded-sent",
  "frag-needed-sent",
  "next-hop-down",
  "next-hop-up",
  "overlay-out",
  "overlay-loopback",
  "overlay-in",
  "hairpin-sent",
  "mcast-delivered",
  "mcast-forwarded",
  "echo-reply-sent",
  "gso-segmented",
  "gro-merged",
  "gro-out",
  "large-segment-out",
  "tunnel-segmented",
  "gso-delivered",
  "large-segment-split",
  "csum-partial-out",
  "csum-completed",
  "uso-out",
  "uso-pieces",
  "uso-in",
] as const;

/** Counter index of each event. */
export const EV = Object.fromEntries(EVENTS.map((r, i) => [r, i])) as {
  readonly [K in typeof EVENTS[number]]: number;
};

/** Drop and event counters of one switch. */
export class SwitchCounters {
  readonly drops = new Float64Array(DROP_REASONS.length);
  readonly events = new Float64Array(EVENTS.length);

  /** Count of one drop reason. */
  drop(r: DropReason): number {
    return this.drops[DROP[r]];
  }

  /** Non-zero counters by name (for the admin API and test messages). */
  toJSON(): { drops: Record<string, number>; events: Record<string, number> } {
    const drops: Record<string, number> = {}, events: Record<string, number> = {};
    DROP_REASONS.forEach((r, i) => this.drops[i] && (drops[r] = this.drops[i]));
    EVENTS.forEach((r, i) => this.events[i] && (events[r] = this.events[i]));
    return { drops, events };
  }
}
