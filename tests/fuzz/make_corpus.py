#!/usr/bin/python3
"""Writes the seed corpora for the fuzz targets (run once; the output is kept in the tree).

decode: one byte of link type, then a frame. engine: records [side][gap ms][len:2][frame] of
whole sessions as the guest (10.77.0.2) would have them. policy: the project's own policies.
"""
import shutil
import struct
from pathlib import Path

from scapy.all import DNS, DNSQR, IP, TCP, UDP, Ether, Raw, raw

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
G, S = ("52:54:00:77:00:02", "10.77.0.2"), ("52:54:00:77:00:01", "10.77.0.1")


def frame(src, dst, l4, payload=b""):
    p = Ether(src=src[0], dst=dst[0]) / IP(src=src[1], dst=dst[1]) / l4
    return raw(p / Raw(payload) if payload else p)


def tcp_session(port, request, response):
    return [
        (0, frame(G, S, TCP(sport=49200, dport=port, flags="S", seq=1000))),
        (1, frame(S, G, TCP(sport=port, dport=49200, flags="SA", seq=5000, ack=1001))),
        (0, frame(G, S, TCP(sport=49200, dport=port, flags="A", seq=1001, ack=5001))),
        (0, frame(G, S, TCP(sport=49200, dport=port, flags="PA", seq=1001, ack=5001), request)),
        (1, frame(S, G, TCP(sport=port, dport=49200, flags="PA", seq=5001, ack=1001 + len(request)), response)),
        (0, frame(G, S, TCP(sport=49200, dport=port, flags="FA", seq=1001 + len(request), ack=5001 + len(response)))),
    ]


def records(frames):
    return b"".join(struct.pack("!BBH", side, 5, len(f)) + f for side, f in frames)


def main():
    sessions = {
        "http": tcp_session(80, b"GET / HTTP/1.1\r\nHost: pharmacy\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        "smb1": tcp_session(445, bytes.fromhex("00000054ff534d4272000000001843c8") + bytes(68), b"\x00\x00\x00\x04abcd"),
        "text-on-445": tcp_session(445, b"HELLO not smb\r\n", b"?"),
        "hl7": tcp_session(2575, b"\x0bMSH|^~\\&|CAB|W3|PH|H|2026||RDS^O13|1|P|2.5\r\x1c\r", b"\x0bMSA|AA|1\r\x1c\r"),
        "dns": [(0, frame(G, S, UDP(sport=5353, dport=53) / DNS(rd=1, qd=DNSQR(qname="pharmacy.local")))),
                (1, frame(S, G, UDP(sport=53, dport=5353) / DNS(id=0, qr=1, qd=DNSQR(qname="pharmacy.local"))))],
        "rdp-in": [(1, frame(S, G, TCP(sport=40000, dport=3389, flags="S", seq=7)))],
    }
    for name in ("fuzz_decode", "fuzz_engine", "fuzz_policy"):
        d = HERE / "corpus" / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for name, frames in sessions.items():
        (HERE / "corpus" / "fuzz_engine" / name).write_bytes(records(frames))
        for i, (_, f) in enumerate(frames[:4]):
            (HERE / "corpus" / "fuzz_decode" / f"{name}-{i}").write_bytes(b"\x00" + f)
    for policy in list((ROOT / "policies" / "shipped").glob("*.yaml")) + [ROOT / "tests" / "sanitizer" / "policy.yaml"]:
        shutil.copy(policy, HERE / "corpus" / "fuzz_policy" / policy.name)


if __name__ == "__main__":
    main()
