// A seeded byte stream between two namespaces, for tests whose oracle is the receiving kernel:
// python3 scripts that print the byte count and SHA-256 of what they sent or received.

/** Receives one connection on `addr` (IPv4 or IPv6) `port`; prints its byte count and SHA-256. */
export function streamServer(addr: string, port: number): string {
  return `
import socket, hashlib
s = socket.socket(socket.AF_INET6 if ":" in "${addr}" else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("${addr}", ${port})); s.listen(1)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    d = c.recv(1 << 16)
    if not d: break
    h.update(d); n += len(d)
print(n, h.hexdigest())
`;
}

/** Sends `mb` MiB of seeded pseudo-random bytes in uneven writes; prints count and SHA-256. */
export function streamClient(dst: string, port: number, mb: number): string {
  return `
import socket, hashlib, random
data = random.Random(14).randbytes(${mb} << 20)
c = socket.create_connection(("${dst}", ${port}), timeout=30)
i = 0; r = random.Random(5)
while i < len(data):
    k = r.randint(1, 200000); c.sendall(data[i:i + k]); i += k
c.close()
print(len(data), hashlib.sha256(data).hexdigest())
`;
}
