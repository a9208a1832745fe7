from common import *

PACKETS = [
    (0.0, "vm-a", Ether(src=VA["mac"], dst="ff:ff:ff:ff:ff:ff") /
     ARP(op=1, hwsrc=VA["mac"], psrc=VA["ip"], pdst="10.0.0.1")),
]
