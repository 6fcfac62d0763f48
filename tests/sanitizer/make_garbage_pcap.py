#!/usr/bin/python3
"""Writes a capture of hostile and broken frames for the sanitizer replay.

Usage: make_garbage_pcap.py OUT.pcap [SEED]

Every kind of malformed input the issue names is here, many times over: truncated headers at
every length, IP options, fragments (first, later, overlapping, tiny), VLAN tag stacks beyond
the limit, IPv6 extension-header chains beyond the limit, bad header lengths, pure garbage,
and valid application payloads with random bytes flipped (which reach nDPI's dissectors).
The seed makes the file the same on every run, so a finding can be replayed.
"""
import random
import struct
import sys

from scapy.all import (ARP, DNS, DNSQR, IP, TCP, UDP, Dot1Q, Ether, IPOption_Router_Alert,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, Raw, raw)

GUEST_MAC, GW_MAC = "52:54:00:77:00:02", "52:54:00:77:00:01"
GUEST, SERVER = "10.77.0.2", "10.77.0.1"


def eth(src=GUEST_MAC, dst=GW_MAC):
    return Ether(src=src, dst=dst)


def valid_packets():
    smb1 = bytes.fromhex("00000054ff534d4272000000001843c8") + bytes(68)
    rdp = bytes.fromhex("0300002c27e00000000000436f6f6b69653a206d737473686173683d") + bytes(16)
    http = b"GET /formulary HTTP/1.1\r\nHost: pharmacy\r\nUser-Agent: cabinet\r\n\r\n"
    hl7 = b"\x0bMSH|^~\\&|CABINET|WARD3|PHARM|HOSP|202611270900||RDS^O13|1|P|2.5\r\x1c\r"
    return [
        eth() / IP(src=GUEST, dst=SERVER) / TCP(sport=49200, dport=445, flags="PA") / Raw(smb1),
        eth() / IP(src=GUEST, dst=SERVER) / TCP(sport=49201, dport=3389, flags="PA") / Raw(rdp),
        eth() / IP(src=GUEST, dst=SERVER) / TCP(sport=49202, dport=80, flags="PA") / Raw(http),
        eth() / IP(src=GUEST, dst=SERVER) / TCP(sport=49203, dport=2575, flags="PA") / Raw(hl7),
        eth() / IP(src=GUEST, dst=SERVER) / UDP(sport=5353, dport=53) /
        DNS(rd=1, qd=DNSQR(qname="pharmacy.hospital.local")),
        eth(GW_MAC, GUEST_MAC) / IP(src=SERVER, dst=GUEST) / TCP(sport=445, dport=49200, flags="SA"),
        eth() / IP(src=GUEST, dst=SERVER) / TCP(sport=49204, dport=1433, flags="S"),
        eth(dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=GUEST_MAC, psrc=GUEST, pdst=SERVER),
        eth() / IPv6(src="fe80::2", dst="fe80::1") / UDP(sport=546, dport=547) / Raw(b"\x01" * 20),
    ]


def write_pcap(path, frames):
    """Classic pcap, Ethernet link type, frames byte for byte (scapy would re-dissect them)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000,
                                len(frame), len(frame)))
            f.write(frame)


def main():
    out = sys.argv[1]
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261127)
    frames = []
    valid = [raw(p) for p in valid_packets()]
    # Every prefix of every valid frame: each header cut at every byte.
    for v in valid:
        frames += [v[:n] for n in range(len(v) + 1)]
    # Random bytes flipped in valid frames, many times.
    for _ in range(3000):
        b = bytearray(rng.choice(valid))
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        frames.append(bytes(b))
    # Pure garbage of every small length, and some long.
    for _ in range(1000):
        frames.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 120))))
    frames.append(bytes(rng.randrange(256) for _ in range(9000)))
    # IP options, odd header lengths and total lengths.
    base = eth() / IP(src=GUEST, dst=SERVER, options=[IPOption_Router_Alert()]) / UDP(sport=1, dport=53) / Raw(b"x" * 30)
    frames.append(raw(base))
    for ihl in range(0, 16):
        b = bytearray(raw(base))
        b[14] = 0x40 | ihl
        frames.append(bytes(b))
    for total in (0, 1, 19, 20, 21, 27, 28, 29, 60, 65535):
        b = bytearray(raw(base))
        b[16], b[17] = total >> 8, total & 0xff
        frames.append(bytes(b))
    # Fragments: first, later, overlapping, tiny, with and without ports.
    payload = raw(UDP(sport=1, dport=53) / Raw(b"y" * 64))
    for off, mf, chunk in ((0, 1, payload[:8]), (1, 0, payload[8:]), (0, 1, payload[:4]),
                           (0, 0, payload), (2, 1, payload[8:24]), (8191, 0, b"z")):
        frames.append(raw(eth() / IP(src=GUEST, dst=SERVER, proto=17, frag=off, flags=mf) / Raw(chunk)))
    # VLAN stacks of every depth up to well past the limit.
    for depth in range(1, 7):
        p = eth()
        for i in range(depth):
            p = p / Dot1Q(vlan=10 + i)
        frames.append(raw(p / IP(src=GUEST, dst=SERVER) / UDP(sport=1, dport=53) / Raw(b"q")))
    # IPv6 extension chains of every length up to past the limit, and fragment headers.
    kinds = [IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting]
    for length in range(0, 14):
        p = eth() / IPv6(src="fe80::2", dst="fe80::1")
        for i in range(length):
            p = p / kinds[i % len(kinds)]()
        frames.append(raw(p / TCP(sport=1, dport=445, flags="S")))
    for offset in (0, 1, 100):
        frames.append(raw(eth() / IPv6(src="fe80::2", dst="fe80::1") /
                          IPv6ExtHdrFragment(offset=offset, m=1) / UDP(sport=1, dport=2) / Raw(b"f" * 16)))
    # TCP data offsets of every value, and every flag combination on a small segment.
    for off in range(16):
        b = bytearray(raw(eth() / IP(src=GUEST, dst=SERVER) / TCP(sport=2, dport=445) / Raw(b"abc")))
        b[14 + 20 + 12] = off << 4
        frames.append(bytes(b))
    for flags in range(256):
        frames.append(raw(eth() / IP(src=GUEST, dst=SERVER) / TCP(sport=3, dport=8080, flags=flags)))
    write_pcap(out, frames)
    print(f"wrote {len(frames)} frames to {out}")


if __name__ == "__main__":
    main()
