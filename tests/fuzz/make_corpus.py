#!/usr/bin/python3
"""Writes the seed corpora for the fuzz targets (run once; the output is kept in the tree).

decode: one byte of link type, then a frame. engine: a mode byte (checksums verified or not),
then records [side][gap ms][len:2][frame] of whole sessions as the guest (10.77.0.2) would have
them, and of what the normaliser and admission meet: tiny, overlapping, out-of-order and
far-ahead segments, wrong checksums, resets, a stream picked up midway, a forged SYN-ACK first,
a SYN flood, VLAN tags, IP fragments, DHCP from its server and from a rogue. policy: the project's own policies.
tls_hello: a server's first TLS payload, whole and cut short, and a client's. hl7: the shared HL7
captures' MLLP streams, cut three ways. reassembly: records [kind][offset:2] (kind >= 0x80: an
acknowledgement; else a segment, then [len:1][bytes]): in order, out of order, overlapping alike
and not, far ahead, retransmitted after and before the acknowledgement, near the wrap. dicom: the recorded
associations' streams, each direction, cut two ways, and PDUs past their length bounds. rdp: the recorded connection starts (a probe, and nmap's scripts). smb: recorded SMB client streams, SMB2 seeds.
usb_device: the raw descriptors of the cabinet's recorded USB devices. serial_filter: scanner lines.
"""
import shutil
import sys
import struct
from pathlib import Path

from scapy.all import (ARP, IPOption, BOOTP, DHCP, DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoRequest, IPv6,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, fragment, raw, rdpcap)

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


def handshake(port, sport=49300):
    return [(0, frame(G, S, TCP(sport=sport, dport=port, flags="S", seq=1000))),
            (1, frame(S, G, TCP(sport=port, dport=sport, flags="SA", seq=5000, ack=1001))),
            (0, frame(G, S, TCP(sport=sport, dport=port, flags="A", seq=1001, ack=5001)))]


def data(port, offset, payload, sport=49300, **tcp):
    return (0, frame(G, S, TCP(sport=sport, dport=port, flags="PA", seq=1001 + offset, ack=5001, **tcp), payload))


def normaliser_sessions():
    """What the normaliser and admission meet, around an HL7 order to port 2575."""
    hl7 = b"\x0bMSH|^~\\&|CAB|W3|PH|H|2026||RDS^O13|1|P|2.5\r\x1c\r"
    half = len(hl7) // 2
    dhcp = lambda src, dst, sport, dport, op: frame(src, dst, UDP(sport=sport, dport=dport) / BOOTP(
        op=op, chaddr=bytes.fromhex("525400770002") + bytes(10)) / DHCP(options=[("message-type", op), "end"]))
    vlan = Ether(src=G[0], dst=S[0]) / Dot1Q(vlan=7) / IP(src=G[1], dst=S[1]) / TCP(sport=49300, dport=2575, seq=1001, ack=5001, flags="PA") / hl7
    fragments = fragment(IP(src=G[1], dst=S[1]) / TCP(sport=49300, dport=2575, seq=1001, ack=5001, flags="PA") / (hl7 * 4), fragsize=32)
    return {
        "tiny-segments": handshake(2575) + [data(2575, i, hl7[i:i + 1]) for i in range(len(hl7))],
        "second-half-first": handshake(2575) + [data(2575, half, hl7[half:]), data(2575, 0, hl7[:half])],
        "overlap-differs": handshake(2575) + [data(2575, 0, hl7[:half + 8]), data(2575, half, b"X" * 8 + hl7[half + 8:])],
        "far-ahead": handshake(2575) + [data(2575, 900000, b"decoy"), data(2575, 0, hl7)],
        "bad-checksum": handshake(2575) + [data(2575, 0, b"ORC|NW|decoy\r", chksum=0x1234), data(2575, 0, hl7)],
        "damaged-options": handshake(2575) + [data(2575, 0, hl7[:half], options=[("Timestamp", (5, 0)), ("NOP", None)]),
                                             data(2575, half, hl7[half:], dataofs=15)],
        "reset-then-data": handshake(2575) + [(0, frame(G, S, TCP(sport=49300, dport=2575, flags="R", seq=1001 + 70000))),
                                             data(2575, 0, hl7),
                                             (1, frame(S, G, TCP(sport=2575, dport=49300, flags="R", seq=5001)))],
        "midstream": [data(2575, 0, hl7), (1, frame(S, G, TCP(sport=2575, dport=49300, flags="A", seq=5001, ack=1001 + len(hl7))))],
        "forged-syn-ack-first": [(1, frame(S, G, TCP(sport=445, dport=445, flags="SA", seq=7000, ack=9001))),
                                 (1, frame(S, G, TCP(sport=445, dport=445, flags="S", seq=100)))],
        "syn-flood": [(1, frame(("52:54:00:77:00:01", f"10.77.{i}.9"), G, TCP(sport=1024 + i, dport=445, flags="S", seq=i)))
                      for i in range(24)] + handshake(2575) + [data(2575, 0, hl7)],
        "vlan-tagged": handshake(2575) + [(0, raw(vlan)), data(2575, 0, hl7)],
        "ip-fragments": handshake(2575) + [(0, raw(Ether(src=G[0], dst=S[0]) / f)) for f in fragments],
        "dhcp": [(0, dhcp(G, ("ff:ff:ff:ff:ff:ff", "255.255.255.255"), 68, 67, 1)),
                 (1, dhcp(S, G, 67, 68, 2)),
                 (1, dhcp(("52:54:00:77:00:66", "10.77.0.66"), G, 67, 68, 2)),
                 (0, frame(G, ("52:54:00:77:00:66", "10.77.0.66"), UDP(sport=68, dport=67), b"formulary"))],
    }


def tls_hellos():
    """The client's and the server's first payloads of a recorded TLS session (golden case)."""
    packets = rdpcap(str(ROOT / "tests" / "golden" / "tls-min-version" / "input.pcap"))
    payloads = [bytes(p[TCP].payload) for p in packets if TCP in p and p[TCP].dport == 4431 and len(p[TCP].payload)]
    replies = [bytes(p[TCP].payload) for p in packets if TCP in p and p[TCP].sport == 4431 and len(p[TCP].payload)]
    return payloads[0], replies[0]


def other_frames():
    """Frames of the other kinds decode reads: IPv6 (with an extension header and a fragment),
    ICMP and ICMPv6, ARP, and a double VLAN tag."""
    g6, s6 = "fe80::2", "fe80::1"
    e = Ether(src=G[0], dst=S[0])
    r = Ether(src=S[0], dst=G[0])
    return {
        "ipv6": [(0, raw(e / IPv6(src=g6, dst=s6) / TCP(sport=49400, dport=80, flags="S", seq=1))),
                 (1, raw(r / IPv6(src=s6, dst=g6) / TCP(sport=80, dport=49400, flags="SA", seq=9, ack=2))),
                 (0, raw(e / IPv6(src=g6, dst=s6) / TCP(sport=49400, dport=80, flags="A", seq=2, ack=10))),
                 (0, raw(e / IPv6(src=g6, dst=s6) / IPv6ExtHdrHopByHop() / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="a.ward3.local")))),
                 (0, raw(e / IPv6(src=g6, dst=s6) / IPv6ExtHdrFragment(id=7, m=1) / UDP(sport=5353, dport=53) / (b"x" * 16))),
                 (1, raw(r / IPv6(src=s6, dst=g6) / ICMPv6EchoRequest()))],
        "icmp-arp-qinq": [(0, raw(e / IP(src=G[1], dst=S[1]) / ICMP())),
                          (1, raw(r / IP(src=S[1], dst=G[1]) / ICMP(type=3, code=3) / IP(src=G[1], dst=S[1]) / UDP(sport=5353, dport=53))),
                          (0, raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=G[0], psrc=G[1], pdst=S[1]))),
                          (1, raw(r / ARP(op=2, hwsrc=S[0], psrc=S[1], hwdst=G[0], pdst=G[1]))),
                          (0, raw(e / Dot1Q(vlan=1) / Dot1Q(vlan=2) / IP(src=G[1], dst=S[1]) / UDP(sport=5353, dport=53)))],
    }


def decode_link_seeds(kinds):
    """The same IP frames on decode's other link types (BSD loopback, raw IP, Linux cooked), a
    snap-truncated copy of each, and IPv4 shapes the sessions lack: options, fragments, a
    header length past the packet."""
    ip_frames = []
    for name, frames in kinds.items():
        for i, (_, f) in enumerate(frames[:3]):
            if f[12:14] in (b"\x08\x00", b"\x86\xdd"):
                ip_frames.append((f"{name}-{i}", f[12:14], f[14:]))
    e = Ether(src=G[0], dst=S[0])
    extra = {
        "ip-options": raw(e / IP(src=G[1], dst=S[1], options=[IPOption(b"\x94\x04\x00\x00")]) / UDP(sport=5353, dport=53)),
        "ip-fragment": raw(e / IP(src=G[1], dst=S[1], flags="MF", frag=0) / UDP(sport=5353, dport=53) / (b"x" * 24)),
        "ip-later-fragment": raw(e / IP(src=G[1], dst=S[1], frag=3, proto=17) / (b"x" * 24)),
        "ip-header-past-packet": raw(e / IP(src=G[1], dst=S[1], ihl=15) / (b"x" * 8)),
        "tcp-options": raw(e / IP(src=G[1], dst=S[1]) / TCP(sport=49300, dport=80, flags="S", options=[
            ("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)])),
    }
    for name, f in extra.items():
        (HERE / "corpus" / "fuzz_decode" / name).write_bytes(b"\x00" + f)
        ip_frames.append((name, f[12:14], f[14:]))
    for name, ethertype, packet in ip_frames:
        v6 = ethertype == b"\x86\xdd"
        family = (24 if v6 else 2).to_bytes(4, "little")  # AF_INET6 as BSD numbers it, AF_INET
        # Linux cooked: packet type, ARPHRD_ETHER, address length, the address (8 bytes), protocol.
        sll = (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (6).to_bytes(2, "big") + \
            bytes.fromhex(G[0].replace(":", "")) + bytes(2) + ethertype
        ether = raw(Ether(src=G[0], dst=S[0], type=int.from_bytes(ethertype, "big")) / packet)
        # Link byte 0x80: Ethernet, its wire length 64 bytes more than captured (snap-truncated).
        for link, body, tag in ((1, family + packet, "null"), (2, packet, "raw"), (3, sll + packet, "sll"),
                                (0x80, ether, "cut")):
            (HERE / "corpus" / "fuzz_decode" / f"{tag}-{name}").write_bytes(bytes([link]) + body)


def golden_attacks():
    """The golden cases' attack captures (the virtual patches' and the inspectors' denials),
    their checksums made whole, the guest's frames as side 0."""
    out = {}
    for case in ("smb-virtual-patches", "rdp-bluekeep", "hl7-sender", "dicom-ae-titles"):
        frames = []
        for p in rdpcap(str(ROOT / "tests" / "golden" / case / "input.pcap"))[:120]:
            if IP in p:
                del p[IP].chksum
                if TCP in p:
                    del p[TCP].chksum
            frames.append((0 if p[Ether].src == G[0] else 1, raw(p)))
        out[f"golden-{case}"] = frames
    return out


def reassembly_seeds():
    def seg(offset, payload):
        return struct.pack("!BHB", 0, offset, len(payload)) + payload

    def ack(offset):
        return struct.pack("!BH", 0x80, offset)

    seeds = {
        "in-order": seg(0, b"ABCD") + seg(4, b"EFGH") + ack(8),
        "overlap-and-gap": seg(4, b"EFGH") + seg(0, b"ABCD") + seg(2, b"xxxx") + seg(256, b"far"),
        "overlap-agrees": seg(0, b"ABCDEF") + seg(2, b"CDEFGH") + ack(4) + seg(3, b"DEFGHI"),
        "retransmit-before-and-after-ack": seg(0, b"ABCDEFGH") + seg(0, b"XBCD") + ack(4) + seg(0, b"XBCDEFGH"),
        "far-ahead": seg(3000, b"decoy") + seg(0, b"A" * 200) + seg(200, b"B" * 200) + ack(400),
        "wrap": seg(0, bytes(range(250))) + ack(250) + seg(250, bytes(250)) + seg(4095, b"end"),
    }
    for name, seed in seeds.items():
        (HERE / "corpus" / "fuzz_reassembly" / name).write_bytes(seed)


# An SMB1 request header (SESSION_SETUP_ANDX, unicode, MID 1) for the seeds that build SMB by hand.
SMB1_SESSION_SETUP = b"\xffSMB\x73" + bytes(5) + b"\x07\xc8" + bytes(18) + b"\x01\x00"


def smb2(command, next_command, body):
    header = b"\xfeSMB" + (64).to_bytes(2, "little") + bytes(6) + command.to_bytes(2, "little") + \
        (1).to_bytes(2, "little") + bytes(4) + next_command.to_bytes(4, "little") + bytes(40)
    return header + body


def hl7_seeds():
    """HL7: the public captures cut three ways, and the framings they lack."""
    hl7_corpus = HERE / "corpus" / "fuzz_hl7"
    for capture in ("HL7-ADT.pcap", "HL7-ORM.pcap"):
        packets = rdpcap(str(ROOT / "tests" / "captures" / capture))
        stream = b"".join(bytes(p[TCP].payload) for p in packets if TCP in p and len(p[TCP].payload))
        for cut in (1, 7, 63):  # first byte: how the target cuts the stream
            (hl7_corpus / f"{capture[:-5]}-{cut}").write_bytes(bytes([cut]) + stream)
    (hl7_corpus / "odd-separators").write_bytes(b"\x05\x0bMSH#*~\\&#A*B#W#P#M#T##ADT*A01#1#P#2.3\rPID#1##ID7\r\x1c\r")
    # A batch (a second MSH in one frame), line breaks before the first frame, a structure of
    # another message code in MSH-9, an FS without its CR.
    msh = b"MSH|^~\\&|CAB|W3|PH|H|2026||ORM^O01^ADT_A01|1|P|2.5\r"
    (hl7_corpus / "batch").write_bytes(b"\x09\x0b" + msh + b"PID|1||X\r" + msh + b"\x1c\r")
    (hl7_corpus / "lf-in-msh9").write_bytes(b"\x05\x0bMSH|^~\\&|CAB|W3|PH|H|2026||ORM^O01\n^ADT_A01|1|P|2.5\r\x1c\n")
    (hl7_corpus / "leading-crlf").write_bytes(b"\x03\r\n\r\n\x0b" + msh + b"\x1c\r\x0b" + msh + b"\x1c")

def dicom_seeds():
    """DICOM: both directions of the recorded associations, and the PDU length bounds."""
    # dicom: each direction of the recorded associations (golden case dicom-ae-titles).
    packets = rdpcap(str(ROOT / "tests" / "golden" / "dicom-ae-titles" / "input.pcap"))
    for name, side in (("requestor", "dport"), ("acceptor", "sport")):
        stream = b"".join(bytes(p[TCP].payload) for p in packets
                          if TCP in p and getattr(p[TCP], side) == 104 and len(p[TCP].payload))
        for cut in (1, 40):
            (HERE / "corpus" / "fuzz_dicom" / f"{name}-{cut}").write_bytes(bytes([cut]) + stream)
    # The bounds on PDU lengths: a P-DATA PDU longer than the association's Maximum Length
    # Received (16 KiB here), and a release request claiming 64 KiB where 4 bytes are due.
    requestor = (HERE / "corpus" / "fuzz_dicom" / "requestor-40").read_bytes()[1:]
    first = requestor[:6 + int.from_bytes(requestor[2:6], "big")]
    (HERE / "corpus" / "fuzz_dicom" / "pdata-over-maximum").write_bytes(
        bytes([40]) + first + b"\x04\x00" + (1 << 20).to_bytes(4, "big") + bytes(64))
    (HERE / "corpus" / "fuzz_dicom" / "release-too-long").write_bytes(
        bytes([3]) + first + b"\x05\x00\x00\x01\x00\x00" + bytes(8))

def rdp_seeds():
    """RDP: the recorded conversations as records, and the shapes they lack."""
    # rdp: the recorded conversations (golden cases rdp-bluekeep, rdp-nmap, rdp-tls-session),
    # both sides in their order, as the target's records: [client bit | length] then bytes.
    def rdp_records(chunks):
        out = b""
        for from_client, data in chunks:
            for i in range(0, len(data), 127):
                piece = data[i:i + 127]
                out += bytes([(0x80 if from_client else 0) | len(piece)]) + piece
        return out
    for case in ("rdp-bluekeep", "rdp-nmap", "rdp-tls-session"):
        packets = rdpcap(str(ROOT / "tests" / "golden" / case / "input.pcap"))
        for port in sorted({p[TCP].sport for p in packets if TCP in p and p[TCP].dport == 3389}):
            chunks = [(p[TCP].dport == 3389, bytes(p[TCP].payload)) for p in packets
                      if TCP in p and port in (p[TCP].sport, p[TCP].dport) and len(p[TCP].payload)]
            if chunks:
                (HERE / "corpus" / "fuzz_rdp" / f"{case}-{port}").write_bytes(rdp_records(chunks))
    # The shapes a recording lacks: TPKT's reserved byte set, a decoy "Duca" in the calling
    # domain selector (the probe's encoding with its selector replaced), TLS after standard
    # security, a second Connect-Initial, a request whose negotiation type XP does not know.
    sys.path.insert(0, str(ROOT / "tests" / "tools"))
    import rdp_probe
    request, confirm = rdp_probe.connection_request(), rdp_probe.connection_confirm()
    initial = rdp_probe.connect_initial(["rdpdr", "MS_T120"])
    odd = bytearray(request + initial)
    odd[1] = odd[len(request) + 1] = 0x01
    decoy = b"Duca" + bytes([0x80, 12]) + bytes.fromhex("03c00c000100000072647064")
    at = len(b"\x03\x00\x00\x00\x02\xf0\x80\x7f\x65\x82\x00\x00")
    inner = bytes([0x04, len(decoy)]) + decoy + initial[at + 3:]  # after the calling selector 04 01 01
    fake = rdp_probe.tpkt(bytes([0x02, 0xF0, 0x80]) + b"\x7f\x65\x82" + len(inner).to_bytes(2, "big") + inner)
    unknown = bytearray(request)
    unknown[-8] = 0x02
    shapes = {
        "reserved-byte": [(True, bytes(odd[:len(request)])), (False, confirm), (True, bytes(odd[len(request):]))],
        "decoy-duca": [(True, request), (False, confirm), (True, fake)],
        "tls-after-standard": [(True, request), (False, confirm), (True, bytes.fromhex("160301002001"))],
        "second-connect-initial": [(True, request), (False, confirm), (True, rdp_probe.connect_initial(["rdpdr"])),
                                   (True, initial)],
        "unknown-negotiation": [(True, bytes(unknown)), (False, confirm), (True, initial)],
    }
    for name, chunks in shapes.items():
        (HERE / "corpus" / "fuzz_rdp" / name).write_bytes(rdp_records(chunks))

def smb_seeds():
    """SMB: the recorded client streams, an XP-style AndX chain, SMB2 basics."""
    # smb: the client's side of each recorded SMB session (golden case smb-virtual-patches, nmap's
    # probe and impacket's session), and nDPI's smbv1.pcap with its DoublePulsar ping.
    for name, capture in (("virtual-patches", ROOT / "tests" / "golden" / "smb-virtual-patches" / "input.pcap"),
                          ("smbv1", ROOT / "tests" / "captures" / "smbv1.pcap")):
        packets = rdpcap(str(capture))
        for port in sorted({p[TCP].sport for p in packets if TCP in p and p[TCP].dport == 445}):
            stream = b"".join(bytes(p[TCP].payload) for p in packets
                              if TCP in p and p[TCP].sport == port and len(p[TCP].payload))
            if stream:
                (HERE / "corpus" / "fuzz_smb" / f"{name}-{port}").write_bytes(bytes([199, 0]) + stream)
    # An XP-style chain: SESSION_SETUP_ANDX with TREE_CONNECT_ANDX (ADMIN$) chained at offset 61.
    setup = bytes([13, 0x75, 0]) + (61).to_bytes(2, "little") + bytes(22) + bytes(2)
    path = "\\\\console\\ADMIN$".encode("utf-16-le") + bytes(2)
    tree = bytes([4, 0xff, 0, 0, 0, 0, 0, 1, 0]) + (2 + len(path)).to_bytes(2, "little") + bytes(2) + path
    chain = SMB1_SESSION_SETUP + setup + tree
    (HERE / "corpus" / "fuzz_smb" / "andx-chain").write_bytes(bytes([199, 0]) + len(chain).to_bytes(4, "big") + chain)
    # SMB2: a negotiate, and a tree connect whose NextCommand (8) lies inside its own header:
    # the message that once made the reader run off its buffer, kept as a regression.
    negotiate = smb2(0, 0, (36).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(32) + (0x0210).to_bytes(2, "little"))
    tree = smb2(3, 8, bytes([9, 0, 0, 0, 72, 0, 4, 0]) + "C$".encode("utf-16-le"))
    for name, message in (("smb2-negotiate", negotiate), ("smb2-next-inside-header", tree)):
        (HERE / "corpus" / "fuzz_smb" / name).write_bytes(bytes([199, 0]) + len(message).to_bytes(4, "big") + message)

def smb_pipe_seeds():
    """SMB: DCE/RPC on named pipes, every way of writing it, transactions with secondaries."""
    # DCE/RPC on a pipe as Metasploit's ms08_067_netapi writes it: a bind whose srvsvc context
    # is not first, then a NetprPathCanonicalize request in two fragments across two WRITE_ANDX;
    # and the same bind and request through SMB2 WRITE and the pipe IOCTL.
    def rpc(ptype, flags, call_id, body):
        return bytes([5, 0, ptype, flags, 0x10, 0, 0, 0]) + (16 + len(body)).to_bytes(2, "little") + bytes(2) + \
            call_id.to_bytes(4, "little") + body
    srvsvc = bytes.fromhex("c84f324b7016d30112785a47bf6ee188") + (3).to_bytes(4, "little")
    ctx = lambda i, iface: i.to_bytes(2, "little") + b"\x01\x00" + iface + bytes.fromhex("045d888aeb1cc9119fe808002b104860") + (2).to_bytes(4, "little")
    bind_pdu = rpc(11, 3, 1, bytes.fromhex("b810b81000000000") + b"\x02\x00\x00\x00" + ctx(0, bytes(16) + bytes(4)) + ctx(1, srvsvc))
    stub = "\\AAAA\\..\\..\\n".encode("utf-16-le")
    first = rpc(0, 1, 2, len(stub).to_bytes(4, "little") + (1).to_bytes(2, "little") + (31).to_bytes(2, "little") + stub[:9])
    last = rpc(0, 2, 2, len(stub).to_bytes(4, "little") + (1).to_bytes(2, "little") + (31).to_bytes(2, "little") + stub[9:])
    def write_andx(data):
        words = b"\xff\x00\x00\x00" + (0x4000).to_bytes(2, "little") + bytes(14) + len(data).to_bytes(2, "little") + (59).to_bytes(2, "little")
        return SMB1_SESSION_SETUP[:4] + b"\x2f" + SMB1_SESSION_SETUP[5:] + bytes([12]) + words + len(data).to_bytes(2, "little") + data
    stream = b"".join(len(m).to_bytes(4, "big") + m for m in
                      (write_andx(bind_pdu), write_andx(first + last[:20]), write_andx(last[20:])))
    (HERE / "corpus" / "fuzz_smb" / "dcerpc-split-writes").write_bytes(bytes([199, 0]) + stream)
    file_id = bytes(range(16))
    write2 = smb2(9, 0, (49).to_bytes(2, "little") + (112).to_bytes(2, "little") + len(bind_pdu).to_bytes(4, "little") +
                  bytes(8) + file_id + bytes(16) + bind_pdu)
    ioctl2 = smb2(11, 0, (57).to_bytes(2, "little") + bytes(2) + (0x0011c017).to_bytes(4, "little") + file_id +
                  (120).to_bytes(4, "little") + len(first).to_bytes(4, "little") + bytes(24) + first)
    stream2 = b"".join(len(m).to_bytes(4, "big") + m for m in (write2, ioctl2))
    (HERE / "corpus" / "fuzz_smb" / "dcerpc-smb2-pipe").write_bytes(bytes([199, 0]) + stream2)
    # Transactions with secondaries: a TransactNmPipe whose DCE/RPC continues in a
    # TRANSACTION_SECONDARY, an NT_TRANSACT_RENAME then its secondary, a WRITE_ANDX on a pending
    # transaction's MID, SMB_COM_WRITE to a pipe, WRITE_ANDX in raw mode with its length prefix.
    def smb1_msg(cmd, words, data, mid):
        hdr = b"\xffSMB" + bytes([cmd]) + bytes(5) + b"\x07\xc8" + bytes(18) + mid.to_bytes(2, "little")
        return hdr + bytes([len(words) // 2]) + words + len(data).to_bytes(2, "little") + data
    def trans(total, data, mid):
        w = bytearray(32)
        w[2:4] = total.to_bytes(2, "little"); w[22:24] = len(data).to_bytes(2, "little"); w[24] = 67
        w[26] = 2; w[28:30] = (0x26).to_bytes(2, "little"); w[30:32] = (0x4001).to_bytes(2, "little")
        return smb1_msg(0x25, bytes(w), data, mid)
    def trans_secondary(total, disp, data, mid):
        w = bytearray(16)
        w[2:4] = total.to_bytes(2, "little"); w[10] = len(data); w[12] = 51; w[14:16] = disp.to_bytes(2, "little")
        return smb1_msg(0x26, bytes(w), data, mid)
    call = rpc(0, 3, 2, len(stub).to_bytes(4, "little") + (1).to_bytes(2, "little") + (31).to_bytes(2, "little") + stub)
    rename = bytearray(38); rename[36] = 5
    core = lambda data: smb1_msg(0x0b, (0x4001).to_bytes(2, "little") + len(data).to_bytes(2, "little") + bytes(6),
                                 b"\x01" + len(data).to_bytes(2, "little") + data, 1)
    raw = b"\xff\x00\x00\x00" + (0x4001).to_bytes(2, "little") + bytes(8) + (0x000c).to_bytes(2, "little") + bytes(4) + \
        (len(call) + 2).to_bytes(2, "little") + (59).to_bytes(2, "little")
    shapes = {
        "trans-with-secondary": [trans(len(bind_pdu), bind_pdu, 3), trans(len(call), call[:20], 4),
                                 trans_secondary(len(call), 20, call[20:], 4)],
        "nt-rename-then-secondary": [smb1_msg(0xa0, bytes(rename), b"\x00", 7), smb1_msg(0xa1, bytes(36), b"", 7)],
        "write-on-pending-mid": [trans(100, bytes(50), 9), write_andx(bind_pdu)[:30] + b"\x09\x00" + write_andx(bind_pdu)[32:]],
        "core-write-pipe": [core(bind_pdu), core(call)],
        "raw-mode-prefix": [smb1_msg(0x2f, raw, len(call).to_bytes(2, "little") + call, 1)],
    }
    for name, messages in shapes.items():
        stream = b"".join(len(m).to_bytes(4, "big") + m for m in messages)
        (HERE / "corpus" / "fuzz_smb" / name).write_bytes(bytes([199, 0]) + stream)

def device_seeds():
    """USB descriptors of the recorded devices, and a barcode scanner's serial lines."""
    # usb: the descriptors of the cabinet's recorded devices (tests/passthrough/devices).
    for recorded in sorted((ROOT / "tests" / "passthrough" / "devices").glob("*.umockdev")):
        for line in recorded.read_text().splitlines():
            if line.startswith("H: descriptors="):
                (HERE / "corpus" / "fuzz_usb_device" / recorded.stem).write_bytes(bytes.fromhex(line.split("=", 1)[1]))
    # serial_filter: [max line][mode bits][piece] then what a scanner sends: lines, CR LF, an escape.
    (HERE / "corpus" / "fuzz_serial_filter" / "scanner").write_bytes(
        bytes([64, 1, 7]) + b"RX-7-INSULIN\r\n0123456789\n\x1b[2J\r" + b"A" * 70 + b"\n")



def protocol_seeds():
    """The protocol readers' seeds: recorded streams and the shapes the recordings lack."""
    hl7_seeds()
    dicom_seeds()
    rdp_seeds()
    smb_seeds()
    smb_pipe_seeds()
    device_seeds()


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
    for name, frames in {**sessions, **other_frames()}.items():
        for i, (_, f) in enumerate(frames[:6]):
            (HERE / "corpus" / "fuzz_decode" / f"{name}-{i}").write_bytes(b"\x00" + f)
    decode_link_seeds({**sessions, **other_frames()})
    for name, frames in {**sessions, **normaliser_sessions(), **other_frames(), **golden_attacks()}.items():
        for mode, verified in ((1, "verified"), (0, "unverified")):
            (HERE / "corpus" / "fuzz_engine" / f"{name}-{verified}").write_bytes(bytes([mode]) + records(frames))
    # Mode bit 1: onMidstream allow, so that a stream picked up midway is tracked.
    for name in ("midstream", "forged-syn-ack-first"):
        (HERE / "corpus" / "fuzz_engine" / f"{name}-tracked").write_bytes(bytes([3]) + records(normaliser_sessions()[name]))
    reassembly_seeds()
    # Inputs that once broke a target (found by a campaign, campaign.py), kept as they were.
    for kept in sorted((HERE / "regressions").glob("*/*")):
        shutil.copy(kept, HERE / "corpus" / kept.parent.name / f"regression-{kept.name}")
    protocol_seeds()
    tls_corpus = HERE / "corpus" / "fuzz_tls_hello"
    (tls_corpus / "server-hello-1.1").write_bytes(server_hello)
    (tls_corpus / "server-hello-1.1-cut").write_bytes(server_hello[:60])
    (tls_corpus / "client-hello").write_bytes(client_hello)
    # policy: the shipped ones, the sanitizer's, the floods' (limits and DHCP servers) and the golden
    # cases' (onMidstream, every inspector's rules).
    policies = list((ROOT / "policies" / "shipped").glob("*.yaml")) + [ROOT / "tests" / "sanitizer" / "policy.yaml",
                                                                        ROOT / "tests" / "integration" / "policy-floods.yaml"]
    for golden in sorted((ROOT / "tests" / "golden").glob("*/policy.yaml")):
        (HERE / "corpus" / "fuzz_policy" / f"golden-{golden.parent.name}.yaml").write_bytes(golden.read_bytes())
    for policy in policies:
        shutil.copy(policy, HERE / "corpus" / "fuzz_policy" / policy.name)


if __name__ == "__main__":
    main()
