from common import *

def dhcp(msg, xid, extra=()):
    return (Ether(src=VA["mac"], dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
            UDP(sport=68, dport=67) /
            BOOTP(chaddr=bytes.fromhex(VA["mac"].replace(":", "")) + b"\0" * 10, xid=xid, flags=0x8000) /
            DHCP(options=[("message-type", msg), *extra, "end"]))

PACKETS = [
    (0.0, "vm-a", dhcp("discover", 0x1234)),
    (0.1, "vm-a", dhcp("request", 0x1234, [("requested_addr", VA["ip"]), ("server_id", "10.0.0.1")])),
]
