// Link-state notifications (RTMGRP_LINK) so the switch notices a link going down within one
// poll round instead of waiting for transmit errors or neighbour timeouts.
import { IF, NL } from "../../ffi/layout.ts";
import { parseLink, Rtnl } from "../../ffi/netlink.ts";

/** Something whose state a monitor updates (TapLink, PacketLink, DlpiLink). */
export interface Watchable {
  readonly name: string;
  /** `index`: the ifindex now carrying the name (it changes when the device is re-created). */
  setUp(up: boolean, index?: number): void;
}

/** One observed change. */
export interface LinkEvent {
  name: string;
  index: number;
  up: boolean;
  removed: boolean;
}

/** True when flags say administratively up with carrier. */
export function operUp(flags: number): boolean {
  return (flags & (IF.IFF_UP | IF.IFF_RUNNING)) === (IF.IFF_UP | IF.IFF_RUNNING);
}

/** Watches link changes of one namespace; add `fd` to the datapath's poll set. */
export class LinkMonitor {
  private readonly rt: Rtnl;
  private readonly watched = new Map<string, Watchable[]>();
  /** Times the kernel dropped notifications because we read too slowly. */
  overruns = 0;

  constructor(readonly netns: string | null = null) {
    this.rt = new Rtnl(netns, NL.RTMGRP_LINK);
  }

  /** The notification socket (readable when events wait). */
  get fd(): number {
    return this.rt.fd;
  }

  /** Updates `w` whenever a link named `w.name` changes state. */
  watch(w: Watchable): void {
    const list = this.watched.get(w.name) ?? [];
    list.push(w);
    this.watched.set(w.name, list);
  }

  /** Drains pending notifications (non-blocking), applies them, returns them. */
  poll(): LinkEvent[] {
    const out: LinkEvent[] = [];
    for (;;) {
      let msgs;
      try {
        msgs = this.rt.recvSome();
      } catch {
        this.overruns++; // ENOBUFS: events were lost; callers refresh() their links
        return out;
      }
      if (msgs.length === 0) return out;
      for (const m of msgs) {
        if (m.type !== NL.RTM_NEWLINK && m.type !== NL.RTM_DELLINK) continue;
        const l = parseLink(m.body);
        const removed = m.type === NL.RTM_DELLINK;
        const ev = { name: l.name, index: l.index, up: !removed && operUp(l.flags), removed };
        out.push(ev);
        for (const w of this.watched.get(l.name) ?? []) w.setUp(ev.up, ev.index);
      }
    }
  }

  /** Closes the notification socket. Idempotent. */
  close(): void {
    this.rt.close();
  }
}
