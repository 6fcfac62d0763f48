"""Seeds for the readers below the inspectors: decode, the engine's normaliser and admission,
reassembly, and the TLS ServerHello reader."""
import struct

from scapy.all import (ARP, IPOption, BOOTP, DHCP, DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoRequest, IPv6,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, fragment, raw, rdpcap)

from . import engine
from .common import FUZZ as HERE, ROOT, G, S, data, frame, handshake, records, tcp_session, write


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
    decode_refusal_seeds(e)
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


def decode_refusal_seeds(e):
    """What decode reads past or refuses: option lists a stack could read two ways, a protocol
    above IP it does not read, an IPv6 authentication header, a frame cut by the capture's
    snap length (link byte 0x80), another ethertype, another loopback family, a link type
    decode does not know (4)."""
    ip = IP(src=G[1], dst=S[1])
    udp = UDP(sport=5353, dport=53)
    seeds = {
        "tcp-option-past-header": raw(e / ip / TCP(sport=49300, dport=80, flags="S", options=[("MSS", 1460)]))[:-4] + b"\x01\x01\x02\x09",
        "tcp-sack-odd-size": raw(e / ip / TCP(sport=49300, dport=80, flags="A", options=[(5, b"\x00" * 6), ("NOP", None), ("NOP", None)])),
        "tcp-timestamp-short": raw(e / ip / TCP(sport=49300, dport=80, flags="A", options=[(8, b"\x00" * 6), ("NOP", None), ("NOP", None)])),
        "tcp-window-scale-over-14": raw(e / ip / TCP(sport=49300, dport=80, flags="S", options=[("WScale", 20), ("NOP", None)])),
        "gre": raw(e / IP(src=G[1], dst=S[1], proto=47) / (b"\x00\x00\x08\x00" + bytes(20))),
        "ip-options-nop-then-bad": raw(e / IP(src=G[1], dst=S[1], options=[IPOption(b"\x01\x83\x09\x04")]) / udp),
        "ip-loose-source-route": raw(e / IP(src=G[1], dst=S[1], options=[IPOption(b"\x83\x07\x04\x0a\x4d\x00\x01\x00")]) / udp),
        "ipv6-authentication-header": raw(e / IPv6(src="fe80::2", dst="fe80::1", nh=51) / (bytes([17, 1]) + bytes(6)) / udp),
        "ipv6-routing-past-packet": raw(e / IPv6(src="fe80::2", dst="fe80::1", nh=43) / (bytes([17, 9]) + bytes(6))),
        "lldp": raw(Ether(src=G[0], dst="01:80:c2:00:00:0e", type=0x88cc) / bytes(20)),
        "udp-length-short": raw(e / ip / UDP(sport=5353, dport=53, len=4)),
        "tcp-header-past-segment": raw(e / ip / TCP(sport=49300, dport=80, dataofs=15)),
        "icmp-cut": raw(e / IP(src=G[1], dst=S[1], proto=1) / b"\x08\x00"),
        "igmp": raw(e / IP(src=G[1], dst="224.0.0.22", proto=2) / bytes.fromhex("2200f9010000000104000000e00000fb")),
        "tcp-unknown-option": raw(e / ip / TCP(sport=49300, dport=80, flags="S", options=[(30, b"\x00\x01"), ("NOP", None), ("NOP", None)])),
        "short-frame": raw(e)[:10],
        "three-vlan-tags": raw(e / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / ip / udp),
        "vlan-tag-cut": raw(e / Dot1Q(vlan=1))[:16],
        "arp-cut": raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=G[1], pdst=S[1]))[:30],
        "arp-other-hardware": raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / ARP(hwtype=6, psrc=G[1], pdst=S[1])),
        "ipv6-cut": raw(e / IPv6(src="fe80::2", dst="fe80::1") / udp / (b"x" * 40))[:80],
        "ipv6-header-chain-too-long": raw(e / IPv6(src="fe80::2", dst="fe80::1", nh=60) /
                                          b"".join(bytes([60 if i < 11 else 17, 0]) + bytes(6) for i in range(12)) / udp),
    }
    for name, f in seeds.items():
        write("fuzz_decode", name, b"\x00" + f)
    whole = raw(e / ip / udp / (b"x" * 40))
    write("fuzz_decode", "cut-by-snap-length", b"\x80" + whole[:40])
    write("fuzz_decode", "cut-not-by-capture", b"\x00" + whole[:40])
    write("fuzz_decode", "null-other-family", b"\x01" + (17).to_bytes(4, "little") + bytes(20))
    write("fuzz_decode", "unknown-link-type", b"\x04" + whole)


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
        # Kind 0x40: a segment that starts before the stream's first byte (by its offset).
        "before-start": seg(0, b"ABCD") + struct.pack("!BHB", 0x40, 3, 8) + b"xyzABCDE" + struct.pack("!BHB", 0x40, 9, 4) + b"junk",
        "overlaps-pending": seg(8, b"IJKLMNOP") + seg(10, b"KLMNOPQR") + seg(6, b"GHIJKL") + seg(6, b"GHIJQQ") + seg(4, b"EFGHIJKLMNOPQRST") +
                            seg(20, b"UVWX") + seg(0, b"ABCD"),
        "retention-overflow": seg(0, bytes(range(200))) + seg(200, bytes(range(200))) + seg(0, bytes(range(10))) + ack(300) +
                              seg(290, bytes(20)),
        "longer-than-retention": seg(0, bytes(range(250))) + seg(10, bytes(range(10, 20))),
    }
    for name, seed in seeds.items():
        (HERE / "corpus" / "fuzz_reassembly" / name).write_bytes(seed)


# An SMB1 request header (SESSION_SETUP_ANDX, unicode, MID 1) for the seeds that build SMB by hand.
SMB1_SESSION_SETUP = b"\xffSMB\x73" + bytes(5) + b"\x07\xc8" + bytes(18) + b"\x01\x00"


def sessions():
    """Whole sessions of the kinds the cabinet speaks, as the guest has them."""
    client_hello, server_hello = tls_hellos()
    return {
        "http": tcp_session(80, b"GET / HTTP/1.1\r\nHost: pharmacy\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        "smb1": tcp_session(445, bytes.fromhex("00000054ff534d4272000000001843c8") + bytes(68), b"\x00\x00\x00\x04abcd"),
        "text-on-445": tcp_session(445, b"HELLO not smb\r\n", b"?"),
        "hl7": tcp_session(2575, b"\x0bMSH|^~\\&|CAB|W3|PH|H|2026||RDS^O13|1|P|2.5\r\x1c\r", b"\x0bMSA|AA|1\r\x1c\r"),
        "dns": [(0, frame(G, S, UDP(sport=5353, dport=53) / DNS(rd=1, qd=DNSQR(qname="pharmacy.local")))),
                (1, frame(S, G, UDP(sport=53, dport=5353) / DNS(id=0, qr=1, qd=DNSQR(qname="pharmacy.local"))))],
        "rdp-in": [(1, frame(S, G, TCP(sport=40000, dport=3389, flags="S", seq=7)))],
        "tls": tcp_session(443, client_hello, server_hello),
    }


def tls_seeds():
    """tls_hello: the recorded server's first payload, whole and cut short, and a client's."""
    client_hello, server_hello = tls_hellos()
    write("fuzz_tls_hello", "server-hello-1.1", server_hello)
    write("fuzz_tls_hello", "server-hello-1.1-cut", server_hello[:60])
    write("fuzz_tls_hello", "client-hello", client_hello)
    # The shapes the recording (a TLS 1.1 server) lacks, as RFC 8446 section 4.1.3 lays a
    # ServerHello out: TLS 1.3 (legacy version 1.2, supported_versions says 1.3, a key share),
    # a HelloRetryRequest (the same message, a fixed random), TLS 1.2 with the extensions its
    # servers send, an extension cut inside the list, and an alert in place of the hello.
    def server_hello(random, extensions, version=0x0303):
        body = version.to_bytes(2, "big") + random + bytes([32]) + bytes(range(32)) + b"\x13\x01\x00"
        if extensions is not None:
            body += len(extensions).to_bytes(2, "big") + extensions
        handshake = b"\x02" + len(body).to_bytes(3, "big") + body
        return b"\x16\x03\x03" + len(handshake).to_bytes(2, "big") + handshake
    ext = lambda kind, value: kind.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
    tls13 = ext(51, b"\x00\x1d\x00\x20" + bytes(32)) + ext(43, b"\x03\x04")
    retry = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
    shapes = {
        "server-hello-1.3": server_hello(bytes(range(32)), tls13),
        "hello-retry-request": server_hello(retry, ext(43, b"\x03\x04") + ext(51, b"\x00\x1d")),
        "server-hello-1.2-extensions": server_hello(bytes(32), ext(0xff01, b"\x00") + ext(11, b"\x01\x00") + ext(35, b"")),
        "server-hello-1.2-none": server_hello(bytes(32), None),
        "supported-versions-cut": server_hello(bytes(32), b"\x00\x2b\x00\x02\x03"),
        "extension-longer-than-list": server_hello(bytes(32), ext(0xff01, b"\x00")[:4] + b"\x00"),
        "alert": b"\x15\x03\x03\x00\x02\x02\x28",
        "server-hello-cut-in-session-id": server_hello(bytes(range(32)), tls13)[:50],
    }
    for name, seed in shapes.items():
        write("fuzz_tls_hello", name, seed)


def write_seeds():
    """decode, engine, reassembly and tls_hello."""
    kinds = {**sessions(), **other_frames()}
    for name, frames in kinds.items():
        for i, (_, f) in enumerate(frames[:6]):
            write("fuzz_decode", f"{name}-{i}", b"\x00" + f)
    decode_link_seeds(kinds)
    for name, frames in {**sessions(), **normaliser_sessions(), **other_frames(), **golden_attacks()}.items():
        for mode, verified in ((1, "verified"), (0, "unverified")):
            write("fuzz_engine", f"{name}-{verified}", bytes([mode]) + records(frames))
    # Mode bit 1: onMidstream allow, so that a stream picked up midway is tracked.
    for name in ("midstream", "forged-syn-ack-first"):
        write("fuzz_engine", f"{name}-tracked", bytes([3]) + records(normaliser_sessions()[name]))
    engine.write_seeds(write, records)
    reassembly_seeds()
    tls_seeds()
