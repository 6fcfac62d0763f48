#!/usr/bin/python3
"""Builds a large Ethernet capture from the shared captures, for the replay benchmark.

Usage: make_bench_pcap.py OUT.pcap COPIES CAPTURE...

Each copy of each capture gets its own IPv4 addresses (the second and third octets of every
address are replaced by the copy number), so that every copy is a new set of flows that nDPI
must classify afresh, as on a busy network; checksums are not fixed, as neither reader checks
them. BSD-loopback frames get an Ethernet header. Packets are 1 ms apart, in order.
"""
import struct
import sys

from scapy.utils import RawPcapReader

DLT_NULL, DLT_EN10MB = 0, 1
FAKE_ETH_V4 = bytes.fromhex("020000000002020000000001") + b"\x08\x00"


def frames(path):
    reader = RawPcapReader(path)
    linktype = getattr(reader, "linktype", DLT_EN10MB)
    out = []
    for data, _ in reader:
        if linktype == DLT_NULL:
            if len(data) < 5 or data[4] >> 4 != 4:
                continue
            data = FAKE_ETH_V4 + data[4:]
        elif linktype != DLT_EN10MB:
            continue
        out.append(data)
    reader.close()
    return out


def main():
    path, copies, captures = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sources = [frames(c) for c in captures]
    written = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, DLT_EN10MB))
        for k in range(copies):
            hi, lo = (k >> 8) & 0xff, k & 0xff
            for source in sources:
                for data in source:
                    b = bytearray(data)
                    if len(b) >= 34 and b[12:14] == b"\x08\x00":
                        b[27], b[28], b[31], b[32] = hi, lo, hi, lo
                    ms = written  # one packet a millisecond
                    f.write(struct.pack("<IIII", 1700000000 + ms // 1000, (ms % 1000) * 1000,
                                        len(b), len(b)))
                    f.write(b)
                    written += 1
    print(f"wrote {written} packets ({copies} copies of {len(captures)} captures) to {path}")


if __name__ == "__main__":
    main()
