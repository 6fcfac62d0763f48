#!/usr/bin/python3
"""Writes input.pcap: a TCP session to port 445 whose payload is plain text, not SMB."""
from scapy.all import Ether, IP, TCP, Raw, wrpcap

GUEST_MAC, SERVER_MAC = "52:54:00:77:00:02", "52:54:00:77:00:01"
GUEST, SERVER = "10.77.0.2", "10.77.0.1"


def guest(flags, seq, ack, payload=b""):
    p = Ether(src=GUEST_MAC, dst=SERVER_MAC) / IP(src=GUEST, dst=SERVER) / \
        TCP(sport=49200, dport=445, flags=flags, seq=seq, ack=ack)
    return p / Raw(payload) if payload else p


def server(flags, seq, ack, payload=b""):
    p = Ether(src=SERVER_MAC, dst=GUEST_MAC) / IP(src=SERVER, dst=GUEST) / \
        TCP(sport=445, dport=49200, flags=flags, seq=seq, ack=ack)
    return p / Raw(payload) if payload else p


lines = [b"HELLO this is not SMB\r\n", b"neither is this line\r\n", b"nor this one, at all\r\n"]
packets = [guest("S", 1000, 0), server("SA", 5000, 1001), guest("A", 1001, 5001)]
seq = 1001
for line in lines:
    packets.append(guest("PA", seq, 5001, line))
    seq += len(line)
for i, p in enumerate(packets):
    p.time = 1700000000 + i * 0.01
wrpcap("input.pcap", packets)
