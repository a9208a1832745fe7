// A stand-in for systemd's notification socket: python3 binds a unix datagram socket (a path or
// `@name`, abstract) and prints each datagram it receives with its CLOCK_MONOTONIC arrival time
// in µs (Python's time.monotonic), one JSON pair per line.

const RECEIVER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\\0" + a[1:] if a.startswith("@") else a)
now = lambda: time.monotonic_ns() // 1000
print(json.dumps(["bound", now()]), flush=True)
while True:
    m = s.recv(65536).decode()
    print(json.dumps([m, now()]), flush=True)
`;

/** A running receiver: what arrived, and a wait for a message matching a pattern. */
export interface NotifyReceiver {
  /** NOTIFY_SOCKET value. */
  address: string;
  messages: string[];
  /** Arrival time of each message, µs of CLOCK_MONOTONIC. */
  arrivals: number[];
  /** When the socket was bound, µs of CLOCK_MONOTONIC. */
  boundUsec: number;
  /** Resolves with the first message (after `from`) matching `re`. */
  waitFor(re: RegExp, from?: number, ms?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts a receiver on `address` (a socket path, or `@name`). */
export async function notifyReceiver(address: string): Promise<NotifyReceiver> {
  const child = new Deno.Command("python3", {
    args: ["-c", RECEIVER, address],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const messages: string[] = [];
  const arrivals: number[] = [];
  let boundUsec = 0;
  let wake = () => {};
  const bound = Promise.withResolvers<void>();
  (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const [m, usec] = JSON.parse(buf.slice(0, nl)) as [string, number];
        buf = buf.slice(nl + 1);
        if (m === "bound") {
          boundUsec = usec;
          bound.resolve();
        } else {
          messages.push(m);
          arrivals.push(usec);
        }
        wake();
      }
    }
  })();
  await bound.promise;
  const waitFor = async (re: RegExp, from = 0, ms = 20000): Promise<string> => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = messages.slice(from).find((m) => re.test(m));
      if (hit !== undefined) return hit;
      if (Date.now() > end) {
        throw new Error(`no notification matching ${re}; got ${JSON.stringify(messages)}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        wake = () => (clearTimeout(t), r());
      });
    }
  };
  return {
    address,
    messages,
    arrivals,
    boundUsec,
    waitFor,
    async close() {
      child.kill("SIGTERM");
      await child.status;
      if (!address.startsWith("@")) await Deno.remove(address).catch(() => {});
    },
  };
}
