// Readiness for service managers: systemd's Type=notify protocol when $NOTIFY_SOCKET is set
// (READY=1 once the admin API serves, RELOADING=1 + MONOTONIC_USEC around a SIGHUP reload,
// STOPPING=1 on SIGTERM). The FFI sender loads only then, so runs outside systemd need no FFI.

import { getLogger } from "@logtape/logtape";
import { optionalEnv } from "../contract/env.ts";

const log = getLogger(["xdeno", "service"]);

/** Tells the service manager where the service is in its life. */
export interface Notifier {
  ready(status: string): void;
  reloading(): void;
  stopping(): void;
}

const silent: Notifier = { ready() {}, reloading() {}, stopping() {} };

/** A notifier for $NOTIFY_SOCKET, or one that does nothing when it is unset or unreadable. */
export async function serviceNotifier(): Promise<Notifier> {
  const socket = optionalEnv("NOTIFY_SOCKET");
  if (!socket) return silent;
  const { monotonicUsec, sdNotify } = await import("../../ffi/sd_notify.ts");
  const send = (state: string) => {
    try {
      sdNotify(socket, state);
    } catch (e) {
      // The manager will time the start out or kill us; the log says why.
      log.warning("sd_notify {state}: {error}", { state, error: (e as Error).message });
    }
  };
  return {
    ready: (status) => send(`READY=1\nSTATUS=${status.replaceAll("\n", " ")}`),
    reloading: () => send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`),
    stopping: () => send("STOPPING=1"),
  };
}
