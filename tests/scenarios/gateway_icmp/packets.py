from common import *

PACKETS = [
    # Ping the gateway: answered by the switch (hairpin).
    (0.0, "vm-a", from_vm(VA, "10.0.0.1", ICMP(type=8, id=0x77, seq=1) / Raw(b"ping"))),
    (1.0, "vm-a", from_vm(VA, "10.0.0.1", ICMP(type=8, id=0x77, seq=2) / Raw(b"ping"))),
]
