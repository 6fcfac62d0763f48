"""TCP sessions as data: taken from a golden case's capture (each direction's bytes, turn by
turn), built again as clean frames (handshake, segments, ACKs, FINs, real checksums), and read
back from what netmon forwarded. The evasion tests change such a session the way an attacker
would (variants.py) and compare what netmon read with what reached the far side.
"""
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from scapy.all import ARP, IP, TCP, Ether, rdpcap, wrpcap  # noqa: F401 (ARP, Ether: for callers)

CLIENT_ISN, SERVER_ISN = 1_000_000, 5_000_000
MSS = 1400
WINDOW = 64240
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Endpoint:
    mac: str
    ip: str
    port: int


@dataclass
class Session:
    """What a connection carried: (side, bytes) turns in order, side "c" (the client, who opened
    it) or "s"; and which client turn is the attack (None for a benign session)."""
    client: Endpoint
    server: Endpoint
    turns: list
    attack_turn: int = None

    def client_bytes(self, upto=None):
        turns = self.turns if upto is None else self.turns[:upto]
        return b"".join(data for side, data in turns if side == "c")

    def truncated(self, upto):
        return Session(self.client, self.server, self.turns[:upto], None)


@dataclass
class Frame:
    """One frame of a built session, with what it is: for the variants to find and change."""
    side: str             # "c" or "s": who sends it
    packet: object        # the scapy packet (Ether / IP / TCP / payload)
    kind: str             # syn, synack, ack, data, fin
    turn: int = -1        # the turn its payload belongs to
    offset: int = 0       # the payload's offset in its sender's stream
    extra: dict = field(default_factory=dict)


def turns_from_capture(path, client_ip, client_port, server_ip, server_port):
    """Each direction's bytes of one TCP connection in a capture, as turns: consecutive data of
    one side is one turn. Retransmissions are read once (first seen)."""
    seen = {"c": set(), "s": set()}
    turns, macs = [], {}
    for pkt in rdpcap(str(path)):
        if IP not in pkt or TCP not in pkt:
            continue
        ip, tcp = pkt[IP], pkt[TCP]
        if (ip.src, tcp.sport, ip.dst, tcp.dport) == (client_ip, client_port, server_ip, server_port):
            side = "c"
        elif (ip.src, tcp.sport, ip.dst, tcp.dport) == (server_ip, server_port, client_ip, client_port):
            side = "s"
        else:
            continue
        if Ether in pkt:
            macs[side] = pkt[Ether].src
        data = bytes(tcp.payload)
        if not data or tcp.seq in seen[side]:
            continue
        seen[side].add(tcp.seq)
        if turns and turns[-1][0] == side:
            turns[-1] = (side, turns[-1][1] + data)
        else:
            turns.append((side, data))
    return (Session(Endpoint(macs.get("c", "52:54:00:77:00:02"), client_ip, client_port),
                    Endpoint(macs.get("s", "52:54:00:77:00:01"), server_ip, server_port), turns))


def build(session, start=1_700_000_000.0):
    """The session as clean frames: handshake, each turn in segments of at most MSS bytes with
    the other side's ACK after each, then FIN both ways."""
    c, s = session.client, session.server
    seq = {"c": CLIENT_ISN, "s": SERVER_ISN}
    frames = []

    def tcp(side, flags, payload=b"", **kw):
        src, dst = (c, s) if side == "c" else (s, c)
        other = "s" if side == "c" else "c"
        ack = seq[other] if "A" in flags else 0
        pkt = (Ether(src=src.mac, dst=dst.mac) / IP(src=src.ip, dst=dst.ip, ttl=64, id=len(frames) + 1) /
               TCP(sport=src.port, dport=dst.port, seq=seq[side], ack=ack, flags=flags, window=WINDOW, **kw) / payload)
        return pkt

    frames.append(Frame("c", tcp("c", "S", options=[("MSS", MSS)]), "syn"))
    seq["c"] += 1
    frames.append(Frame("s", tcp("s", "SA", options=[("MSS", MSS)]), "synack"))
    seq["s"] += 1
    frames.append(Frame("c", tcp("c", "A"), "ack"))
    offsets = {"c": 0, "s": 0}
    for i, (side, data) in enumerate(session.turns):
        other = "s" if side == "c" else "c"
        for at in range(0, len(data), MSS):
            chunk = data[at:at + MSS]
            frames.append(Frame(side, tcp(side, "PA", chunk), "data", i, offsets[side]))
            seq[side] += len(chunk)
            offsets[side] += len(chunk)
            frames.append(Frame(other, tcp(other, "A"), "ack", i))
    frames.append(Frame("c", tcp("c", "FA"), "fin"))
    seq["c"] += 1
    frames.append(Frame("s", tcp("s", "FA"), "fin"))
    seq["s"] += 1
    frames.append(Frame("c", tcp("c", "A"), "ack"))
    for n, f in enumerate(frames):
        f.packet.time = start + n * 0.001
    return frames


def finish(frames):
    """Checksums and lengths filled in (a variant that breaks one sets it after this), times
    kept increasing where a variant inserted frames."""
    out = []
    last = 0.0
    for f in frames:
        pkt = f.packet
        if not f.extra.get("keep_checksums"):
            for layer in (IP, TCP):
                if layer in pkt:
                    del pkt[layer].chksum
            if IP in pkt:
                del pkt[IP].len
        t = max(float(pkt.time), last + 0.0001) if not f.extra.get("keep_time") else float(pkt.time)
        pkt = pkt.__class__(bytes(pkt))
        pkt.time = t
        last = t
        out.append(pkt)
    return out


def write(frames, path):
    wrpcap(str(path), finish(frames))


def replay(netmon, pcap, policy, workdir, extra=()):
    """Replays `pcap` under `policy`: the flow records, events, forwarded capture and inspected
    bytes netmon wrote."""
    workdir = Path(workdir)
    out = {k: workdir / f"{Path(pcap).stem}.{k}" for k in ("flows", "events", "forwarded", "inspected")}
    subprocess.run([netmon, "replay", "--pcap", str(pcap), "--policy", str(policy), "--flows", str(out["flows"]),
                    "--events", str(out["events"]), "--forwarded", str(out["forwarded"]),
                    "--inspected", str(out["inspected"]), *extra], check=True, capture_output=True)
    return {"flows": [json.loads(l) for l in out["flows"].read_text().splitlines()],
            "events": [json.loads(l) for l in out["events"].read_text().splitlines()],
            "forwarded": out["forwarded"], "inspected": out["inspected"]}


def inspected_stream(path, client):
    """What netmon's inspector read of the client's stream, put together by offset."""
    pieces = {}
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        if (r["src"], r["sport"]) == (client.ip, client.port) and r["endpoint"] == 0:
            pieces[r["offset"]] = bytes.fromhex(r["hex"])
    out = b""
    for offset in sorted(pieces):
        data = pieces[offset]
        if offset > len(out):
            raise AssertionError(f"the inspector read a hole before offset {offset}")
        out = out[:offset] + data if offset + len(data) > len(out) else out
    return out


def received_stream(pcap, client, server):
    """The client's bytes as the server would receive them from what netmon forwarded: every
    forwarded segment of the connection put in place. Returns (bytes up to the first hole,
    offsets given two different bytes)."""
    at, conflicts = {}, []
    for pkt in rdpcap(str(pcap)):
        if IP not in pkt or TCP not in pkt:
            continue
        ip, tcp = pkt[IP], pkt[TCP]
        if (ip.src, tcp.sport, ip.dst, tcp.dport) != (client.ip, client.port, server.ip, server.port):
            continue
        if tcp.flags & 0x04:  # a reset carries no stream bytes
            continue
        data = bytes(tcp.payload)
        base = (tcp.seq - CLIENT_ISN - 1) % (1 << 32)
        for i, b in enumerate(data):
            offset = base + i
            if offset in at and at[offset] != b:
                conflicts.append(offset)
            at.setdefault(offset, b)
    out = bytearray()
    while len(out) in at:
        out.append(at[len(out)])
    return bytes(out), conflicts
