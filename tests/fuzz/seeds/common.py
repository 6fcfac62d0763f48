"""What every seed module builds with: the guest and its host, frames, sessions, records."""
import struct
from pathlib import Path

from scapy.all import IP, TCP, Ether, Raw, raw

FUZZ = Path(__file__).resolve().parents[1]
ROOT = FUZZ.parents[1]
G, S = ("52:54:00:77:00:02", "10.77.0.2"), ("52:54:00:77:00:01", "10.77.0.1")


def write(target, name, seed):
    """One seed into a target's corpus folder."""
    (FUZZ / "corpus" / target / name).write_bytes(seed)


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


def handshake(port, sport=49300):
    return [(0, frame(G, S, TCP(sport=sport, dport=port, flags="S", seq=1000))),
            (1, frame(S, G, TCP(sport=port, dport=sport, flags="SA", seq=5000, ack=1001))),
            (0, frame(G, S, TCP(sport=sport, dport=port, flags="A", seq=1001, ack=5001)))]


def data(port, offset, payload, sport=49300, **tcp):
    return (0, frame(G, S, TCP(sport=sport, dport=port, flags="PA", seq=1001 + offset, ack=5001, **tcp), payload))
