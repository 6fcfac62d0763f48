#!/usr/bin/python3
"""Writes the seed corpora for the fuzz targets (run once; the output is kept in the tree).

decode: one byte of link type, then a frame. engine: records [side][gap ms][len:2][frame] of
whole sessions as the guest (10.77.0.2) would have them. policy: the project's own policies.
tls_hello: a server's first TLS payload, whole and cut short, and a client's. hl7: the shared HL7
captures' MLLP streams, cut three ways. reassembly: segments out of order, overlapping, far ahead. dicom: the recorded
associations' streams, each direction, cut two ways. rdp: the recorded connection starts (a probe, and nmap's scripts). smb: recorded SMB client streams.
usb_device: the raw descriptors of the cabinet's recorded USB devices. serial_filter: scanner lines.
"""
import shutil
import struct
from pathlib import Path

from scapy.all import DNS, DNSQR, IP, TCP, UDP, Ether, Raw, raw, rdpcap

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


def tls_hellos():
    """The client's and the server's first payloads of a recorded TLS session (golden case)."""
    packets = rdpcap(str(ROOT / "tests" / "golden" / "tls-min-version" / "input.pcap"))
    payloads = [bytes(p[TCP].payload) for p in packets if TCP in p and p[TCP].dport == 4431 and len(p[TCP].payload)]
    replies = [bytes(p[TCP].payload) for p in packets if TCP in p and p[TCP].sport == 4431 and len(p[TCP].payload)]
    return payloads[0], replies[0]


def main():
    client_hello, server_hello = tls_hellos()
    sessions = {
        "http": tcp_session(80, b"GET / HTTP/1.1\r\nHost: pharmacy\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        "smb1": tcp_session(445, bytes.fromhex("00000054ff534d4272000000001843c8") + bytes(68), b"\x00\x00\x00\x04abcd"),
        "text-on-445": tcp_session(445, b"HELLO not smb\r\n", b"?"),
        "hl7": tcp_session(2575, b"\x0bMSH|^~\\&|CAB|W3|PH|H|2026||RDS^O13|1|P|2.5\r\x1c\r", b"\x0bMSA|AA|1\r\x1c\r"),
        "dns": [(0, frame(G, S, UDP(sport=5353, dport=53) / DNS(rd=1, qd=DNSQR(qname="pharmacy.local")))),
                (1, frame(S, G, UDP(sport=53, dport=5353) / DNS(id=0, qr=1, qd=DNSQR(qname="pharmacy.local"))))],
        "rdp-in": [(1, frame(S, G, TCP(sport=40000, dport=3389, flags="S", seq=7)))],
        "tls": tcp_session(443, client_hello, server_hello),
    }
    for name in ("fuzz_decode", "fuzz_engine", "fuzz_policy", "fuzz_tls_hello", "fuzz_hl7", "fuzz_reassembly", "fuzz_dicom", "fuzz_rdp", "fuzz_smb",
                 "fuzz_usb_device", "fuzz_serial_filter"):
        d = HERE / "corpus" / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for name, frames in sessions.items():
        (HERE / "corpus" / "fuzz_engine" / name).write_bytes(records(frames))
        for i, (_, f) in enumerate(frames[:4]):
            (HERE / "corpus" / "fuzz_decode" / f"{name}-{i}").write_bytes(b"\x00" + f)
    # reassembly: [offset:2][length:1][bytes]: out of order, overlapping with other bytes, far ahead.
    (HERE / "corpus" / "fuzz_reassembly" / "overlap-and-gap").write_bytes(
        b"\x00\x04\x04EFGH" b"\x00\x00\x04ABCD" b"\x00\x02\x04xxxx" b"\x01\x00\x03far")
    hl7_corpus = HERE / "corpus" / "fuzz_hl7"
    for capture in ("HL7-ADT.pcap", "HL7-ORM.pcap"):
        packets = rdpcap(str(ROOT.parent / "shared" / "testdata" / "pcaps" / capture))
        stream = b"".join(bytes(p[TCP].payload) for p in packets if TCP in p and len(p[TCP].payload))
        for cut in (1, 7, 63):  # first byte: how the target cuts the stream
            (hl7_corpus / f"{capture[:-5]}-{cut}").write_bytes(bytes([cut]) + stream)
    (hl7_corpus / "odd-separators").write_bytes(b"\x05\x0bMSH#*~\\&#A*B#W#P#M#T##ADT*A01#1#P#2.3\rPID#1##ID7\r\x1c\r")
    # dicom: each direction of the recorded associations (golden case dicom-ae-titles).
    packets = rdpcap(str(ROOT / "tests" / "golden" / "dicom-ae-titles" / "input.pcap"))
    for name, side in (("requestor", "dport"), ("acceptor", "sport")):
        stream = b"".join(bytes(p[TCP].payload) for p in packets
                          if TCP in p and getattr(p[TCP], side) == 104 and len(p[TCP].payload))
        for cut in (1, 40):
            (HERE / "corpus" / "fuzz_dicom" / f"{name}-{cut}").write_bytes(bytes([cut]) + stream)
    # rdp: the recorded connection starts (golden case rdp-bluekeep), the client's bytes.
    for case in ("rdp-bluekeep", "rdp-nmap"):
        packets = rdpcap(str(ROOT / "tests" / "golden" / case / "input.pcap"))
        for port in sorted({p[TCP].sport for p in packets if TCP in p and p[TCP].dport == 3389}):
            stream = b"".join(bytes(p[TCP].payload) for p in packets
                              if TCP in p and p[TCP].sport == port and len(p[TCP].payload))
            if stream:
                (HERE / "corpus" / "fuzz_rdp" / f"{case}-{port}").write_bytes(bytes([13, 0]) + stream)
    # smb: the client's side of each recorded SMB session (golden case smb-virtual-patches, nmap's
    # probe and impacket's session), and nDPI's smbv1.pcap with its DoublePulsar ping.
    for name, capture in (("virtual-patches", ROOT / "tests" / "golden" / "smb-virtual-patches" / "input.pcap"),
                          ("smbv1", ROOT.parent / "shared" / "testdata" / "pcaps" / "smbv1.pcap")):
        packets = rdpcap(str(capture))
        for port in sorted({p[TCP].sport for p in packets if TCP in p and p[TCP].dport == 445}):
            stream = b"".join(bytes(p[TCP].payload) for p in packets
                              if TCP in p and p[TCP].sport == port and len(p[TCP].payload))
            if stream:
                (HERE / "corpus" / "fuzz_smb" / f"{name}-{port}").write_bytes(bytes([199, 0]) + stream)
    # An XP-style chain: SESSION_SETUP_ANDX with TREE_CONNECT_ANDX (ADMIN$) chained at offset 61.
    header = b"\xffSMB\x73" + bytes(5) + b"\x07\xc8" + bytes(18) + b"\x01\x00"
    setup = bytes([13, 0x75, 0]) + (61).to_bytes(2, "little") + bytes(22) + bytes(2)
    path = "\\\\console\\ADMIN$".encode("utf-16-le") + bytes(2)
    tree = bytes([4, 0xff, 0, 0, 0, 0, 0, 1, 0]) + (2 + len(path)).to_bytes(2, "little") + bytes(2) + path
    chain = header + setup + tree
    (HERE / "corpus" / "fuzz_smb" / "andx-chain").write_bytes(bytes([199, 0]) + len(chain).to_bytes(4, "big") + chain)
    # usb: the descriptors of the cabinet's recorded devices (tests/passthrough/devices).
    for recorded in sorted((ROOT / "tests" / "passthrough" / "devices").glob("*.umockdev")):
        for line in recorded.read_text().splitlines():
            if line.startswith("H: descriptors="):
                (HERE / "corpus" / "fuzz_usb_device" / recorded.stem).write_bytes(bytes.fromhex(line.split("=", 1)[1]))
    # serial_filter: [max line][mode bits][piece] then what a scanner sends: lines, CR LF, an escape.
    (HERE / "corpus" / "fuzz_serial_filter" / "scanner").write_bytes(
        bytes([64, 1, 7]) + b"RX-7-INSULIN\r\n0123456789\n\x1b[2J\r" + b"A" * 70 + b"\n")
    tls_corpus = HERE / "corpus" / "fuzz_tls_hello"
    (tls_corpus / "server-hello-1.1").write_bytes(server_hello)
    (tls_corpus / "server-hello-1.1-cut").write_bytes(server_hello[:60])
    (tls_corpus / "client-hello").write_bytes(client_hello)
    for policy in list((ROOT / "policies" / "shipped").glob("*.yaml")) + [ROOT / "tests" / "sanitizer" / "policy.yaml"]:
        shutil.copy(policy, HERE / "corpus" / "fuzz_policy" / policy.name)


if __name__ == "__main__":
    main()
