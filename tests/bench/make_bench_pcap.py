#!/usr/bin/python3
"""Builds a large Ethernet capture from the shared captures, for the replay benchmark.

Usage: make_bench_pcap.py OUT.pcap COPIES CAPTURE...

Each copy of each capture gets its own IPv4 addresses (the second and third octets of every
address are replaced by the copy number), so that every copy is a new set of flows that nDPI
must classify afresh, as on a busy network. Checksums are made right (IP, TCP, UDP, ICMP):
netmon verifies them, as the host would, and a capture taken where the NIC filled them in would
otherwise measure only their drops. BSD-loopback frames get an Ethernet header. Packets are
1 ms apart, in order.
"""
import struct
import sys

from scapy.utils import RawPcapReader

DLT_NULL, DLT_EN10MB = 0, 1
FAKE_ETH_V4 = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
ETH = 14


def frames(path):
    reader = RawPcapReader(path)
    linktype = getattr(reader, "linktype", DLT_EN10MB)
    out = []
    for data, meta in reader:
        if linktype == DLT_NULL:
            if len(data) < 5 or data[4] >> 4 != 4:
                continue
            data = FAKE_ETH_V4 + data[4:]
        elif linktype != DLT_EN10MB:
            continue
        whole = getattr(meta, "wirelen", len(data)) <= len(data)
        out.append((bytes(data), whole))
    reader.close()
    return out


def ones_sum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def checksum(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Template:
    """One source frame, with what is needed to give each copy right checksums: the transport's
    sum without its pseudo-header (which holds the addresses each copy changes)."""

    def __init__(self, data, whole):
        self.data = bytearray(data)
        self.ihl = 0
        self.l4_at = self.l4_sum = None
        if len(data) < ETH + 20 or data[12:14] != b"\x08\x00" or data[ETH] >> 4 != 4:
            return
        self.ihl = (data[ETH] & 0x0f) * 4
        total = struct.unpack("!H", data[ETH + 2:ETH + 4])[0]
        fragment = struct.unpack("!H", data[ETH + 6:ETH + 8])[0] & 0x3fff
        proto = data[ETH + 9]
        at = {6: 16, 17: 6, 1: 2}.get(proto)
        l4 = ETH + self.ihl
        if at is None or fragment or not whole or ETH + total > len(data) or total < self.ihl + at + 2:
            return
        segment = bytearray(data[l4:ETH + total])
        if proto == 17 and segment[6:8] == b"\x00\x00":
            return  # no checksum: none to make right
        segment[at:at + 2] = b"\x00\x00"
        self.l4_at, self.proto, self.l4_len = l4 + at, proto, len(segment)
        self.l4_sum = ones_sum(bytes(segment))

    def copy(self, hi, lo):
        b = bytearray(self.data)
        if not self.ihl:
            return b
        b[27], b[28], b[31], b[32] = hi, lo, hi, lo
        b[ETH + 10:ETH + 12] = b"\x00\x00"
        b[ETH + 10:ETH + 12] = struct.pack("!H", checksum(ones_sum(bytes(b[ETH:ETH + self.ihl]))))
        if self.l4_at is not None:
            s = self.l4_sum
            if self.proto != 1:  # ICMP has no pseudo-header
                s += ones_sum(bytes(b[ETH + 12:ETH + 20])) + self.proto + self.l4_len
            b[self.l4_at:self.l4_at + 2] = struct.pack("!H", checksum(s))
        return b


def main():
    path, copies, captures = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sources = [[Template(data, whole) for data, whole in frames(c)] for c in captures]
    written = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, DLT_EN10MB))
        for k in range(copies):
            hi, lo = (k >> 8) & 0xff, k & 0xff
            for source in sources:
                for template in source:
                    b = template.copy(hi, lo)
                    ms = written  # one packet a millisecond
                    f.write(struct.pack("<IIII", 1700000000 + ms // 1000, (ms % 1000) * 1000,
                                        len(b), len(b)))
                    f.write(b)
                    written += 1
    print(f"wrote {written} packets ({copies} copies of {len(captures)} captures) to {path}")


if __name__ == "__main__":
    main()
