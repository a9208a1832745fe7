from common import *

def a_to_b(sport, dport, flags, seq, ack=0):
    return from_vm(VA, VB["ip"], TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack))

def b_to_a(sport, dport, flags, seq, ack):
    return from_vm(VB, VA["ip"], TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack))

PACKETS = [
    # Two live flows into vm-b: ssh (22) and http (80), both allowed by its rules.
    (0.0, "vm-a", a_to_b(40022, 22, "S", 100)),
    (0.01, "vm-b", b_to_a(22, 40022, "SA", 900, 101)),
    (0.02, "vm-a", a_to_b(40022, 22, "A", 101, 901)),
    (0.03, "vm-a", a_to_b(40080, 80, "S", 200)),
    (0.04, "vm-b", b_to_a(80, 40080, "SA", 700, 201)),
    (0.05, "vm-a", a_to_b(40080, 80, "A", 201, 701)),
    # At 1 s a step replaces vm-b's rules: only ssh stays allowed in.
    (2.0, "vm-a", a_to_b(40022, 22, "PA", 101, 901) / Raw(b"ls\n")),
    (2.1, "vm-a", a_to_b(40081, 80, "S", 300)),
]
