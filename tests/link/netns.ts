// Test fixtures for root tests: throwaway namespaces and veth pairs with a unique prefix, and
// a small answering frame sink (ARP, NDP NS, ICMP/ICMPv6 echo) written here so link tests do
// not depend on the packet layer.

/** True when running as root; otherwise prints why the calling test skips. */
export function isRoot(what: string): boolean {
  const root = Deno.uid() === 0;
  if (!root) console.warn(`SKIP ${what}: needs root (network namespaces)`);
  return root;
}

/** A short unique prefix for names of this test run (interface names max 15 bytes). */
export function uniq(): string {
  return `xd${(Deno.pid % 1000).toString(36)}${Math.floor(Math.random() * 46656).toString(36)}`;
}

/** Runs a command; returns stdout; throws with stderr on failure. */
export function sh(cmd: string[], allowFail = false): string {
  const r = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .outputSync();
  if (!r.success && !allowFail) {
    throw new Error(`${cmd.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
  return new TextDecoder().decode(r.stdout);
}

/** Creates a named namespace (loopback up); returns its name. */
export function addNetns(name: string): string {
  sh(["ip", "netns", "add", name]);
  sh(["ip", "-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** Deletes a namespace, ignoring "not found". */
export function delNetns(name: string): void {
  sh(["ip", "netns", "del", name], true);
}

/** Names of all links in `netns` (null: ours), from `ip -j link`. */
export function linkNames(netns: string | null): string[] {
  const args = netns ? ["ip", "-n", netns, "-j", "link"] : ["ip", "-j", "link"];
  return (JSON.parse(sh(args)) as { ifname: string }[]).map((l) => l.ifname);
}

/** Number of open fds of this process (only meaningful when no other test runs in it). */
export function fdCount(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/** Mappings of sockets (PACKET_MMAP rings) in this process. */
export function socketMaps(): number {
  return Deno.readTextFileSync("/proc/self/maps").split("\n").filter((l) => l.includes("socket:"))
    .length;
}

/** What fd `fd` refers to (`socket:[inode]` is unique process-wide; safe under --parallel). */
export function fdTarget(fd: number): string {
  return Deno.readLinkSync(`/proc/self/fd/${fd}`);
}

/** Which of `targets` are still referenced by an fd or a mapping of this process. */
export function stillOpen(targets: string[]): string[] {
  const live = new Set<string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      live.add(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch {
      // closed between listing and reading
    }
  }
  const maps = Deno.readTextFileSync("/proc/self/maps");
  return targets.filter((t) => live.has(t) || maps.includes(t));
}

/** True while any fd of this process is attached to TUN/TAP device `name` (fdinfo `iff:`). */
export function tunOpen(name: string): boolean {
  for (const e of Deno.readDirSync("/proc/self/fdinfo")) {
    try {
      if (Deno.readTextFileSync(`/proc/self/fdinfo/${e.name}`).includes(`iff:\t${name}\n`)) {
        return true;
      }
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/**
 * Waits (≤ 2 s) until link `name` is gone from `netns`. A child forked by another test in this
 * process holds inherited fds until its exec, so a TAP may outlive our close by a moment.
 */
export function waitLinkGone(netns: string | null, name: string): boolean {
  const end = Date.now() + 2000;
  while (linkNames(netns).includes(name)) {
    if (Date.now() > end) return false;
    sh(["sleep", "0.02"]);
  }
  return true;
}

function csum(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return (~s) & 0xffff;
}

function swapMacs(f: Uint8Array, mac: Uint8Array): void {
  f.copyWithin(0, 6, 12);
  f.set(mac, 6);
}

/**
 * Answers one frame in place as a host owning `mac`, `ip4` and `ip6` would: ARP request, ICMP
 * echo, ICMPv6 NS and echo. Returns the reply length, or 0 when the frame needs no answer.
 */
export function answer(
  f: Uint8Array,
  len: number,
  mac: Uint8Array,
  ip4: Uint8Array,
  ip6: Uint8Array,
): number {
  const et = (f[12] << 8) | f[13];
  if (et === 0x0806 && len >= 42 && f[21] === 1 && ip4.every((x, i) => f[38 + i] === x)) {
    swapMacs(f, mac);
    f[21] = 2;
    f.copyWithin(32, 22, 32); // requester → target
    f.set(mac, 22);
    f.set(ip4, 28);
    return 42;
  }
  if (et === 0x0800 && len >= 42 && f[23] === 1 && ip4.every((x, i) => f[30 + i] === x)) {
    const ihl = (f[14] & 15) * 4;
    const ic = 14 + ihl;
    if (f[ic] !== 8) return 0;
    swapMacs(f, mac);
    f.copyWithin(30, 26, 30);
    f.set(ip4, 26);
    f[ic] = 0;
    f[ic + 2] = f[ic + 3] = 0;
    const tot = (f[16] << 8) | f[17];
    const c = csum(f, ic, tot - ihl);
    f[ic + 2] = c >> 8;
    f[ic + 3] = c;
    return 14 + tot;
  }
  if (et === 0x86dd && len >= 62 && f[20] === 58) {
    const plen = (f[18] << 8) | f[19];
    const t = f[54];
    const isNs = t === 135 && ip6.every((x, i) => f[62 + i] === x);
    const isEcho = t === 128 && ip6.every((x, i) => f[38 + i] === x);
    if (!isNs && !isEcho) return 0;
    swapMacs(f, mac);
    f.copyWithin(38, 22, 38); // src → dst
    f.set(ip6, 22);
    f[21] = 255;
    let total = plen;
    if (isNs) {
      f[54] = 136;
      f[58] = 0x60; // solicited + override
      f[59] = f[60] = f[61] = 0;
      f[78] = 2; // target link-layer address option
      f[79] = 1;
      f.set(mac, 80);
      total = 32;
      f[18] = 0;
      f[19] = total;
    } else f[54] = 129;
    f[56] = f[57] = 0;
    // pseudo-header sum: src, dst, length, next header
    let s = 0;
    for (let i = 22; i < 54; i += 2) s += (f[i] << 8) | f[i + 1];
    s += total + 58;
    const c = csum(f, 54, total, s);
    f[56] = c >> 8;
    f[57] = c;
    return 54 + total;
  }
  return 0;
}

/** A kernel counter (nstat name, e.g. TcpInCsumErrors) of namespace `ns`, absolute value. */
export function kernelCounter(ns: string, name: string): number {
  const out = sh(["ip", "netns", "exec", ns, "nstat", "-az", "--json", name]);
  return JSON.parse(out).kernel[name] ?? 0;
}
