"""Seeds for the engine's TCP tracker, stream checks and layer-2 police: each phase of a
connection met by the segments it refuses (RFC 793's and RFC 7323's rules as the tracker
reads them), and frames the layer-2 police drops. Sessions to port 80 of the host (a rule
allows TCP to it), guest port 49500, guest ISN 1000, host ISN 5000."""
from scapy.all import ARP, BOOTP, DHCP, IP, TCP, UDP, Dot1Q, Ether, raw

from .common import G, S, frame

ROGUE = ("52:54:00:77:00:66", "10.77.0.99")


def seg(side, flags, seq, ack=0, payload=b"", port=80, **tcp):
    src, dst, sport, dport = (G, S, 49500, port) if side == 0 else (S, G, port, 49500)
    return (side, frame(src, dst, TCP(sport=sport, dport=dport, flags=flags, seq=seq % 2**32, ack=ack % 2**32,
                                  **tcp), payload))


def syn(**tcp):
    return seg(0, "S", 1000, **tcp)


def synack(**tcp):
    return seg(1, "SA", 5000, 1001, **tcp)


def opened(**tcp):
    return [syn(**tcp), synack(**tcp), seg(0, "A", 1001, 5001, **tcp)]


def hl7(side, flags, seq, ack=0, payload=b""):
    src, dst, sport, dport = (G, S, 49501, 2575) if side == 0 else (S, G, 2575, 49501)
    return (side, frame(src, dst, TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack), payload))


def rdp(side, flags, seq, ack=0, payload=b""):
    """RDP to the guest: side 1 the hospital's client, side 0 the guest's server."""
    src, dst, sport, dport = (S, G, 50100, 3389) if side == 1 else (G, S, 3389, 50100)
    return (side, frame(src, dst, TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack), payload))


# An X.224 connection request asking for TLS, and the confirm choosing it (MS-RDPBCGR 2.2.1.1-2).
RDP_REQUEST = bytes.fromhex("030000130ee00000000000" "0100080001000000")
RDP_CONFIRM_TLS = bytes.fromhex("030000130ed00000123400" "0200080001000000")
ORDER = b"\x0bMSH|^~\\&|CAB|W3|PH|H|2026||RDS^O13|1|P|2.5\r\x1c\r"
ACK = b"\x0bMSH|^~\\&|PH|H|CAB|W3|2026||ACK|1|P|2.5\rMSA|AA|0\r\x1c\r"
TS = lambda val, ecr=0: {"options": [("Timestamp", (val, ecr)), ("NOP", None), ("NOP", None)]}


def tracker_sessions():
    return {
        # Before the SYN-ACK: the SYN again, an ACK, an inexact RST, an exact one.
        "syn-sent": [syn(), syn(), seg(0, "A", 1001, 5001), seg(0, "R", 1400), seg(0, "R", 1001)],
        # The host refuses: an RST that acknowledges something else, then the SYN.
        "refused": [syn(), seg(1, "RA", 0, 1500), seg(1, "A", 5000, 1001), seg(1, "RA", 0, 1001)],
        "syn-ack-wrong-ack": [syn(), seg(1, "SA", 5000, 1400)],
        # Half open: the SYN-ACK again and changed, a bare ACK from the host, the SYN again and
        # another, a segment with no ACK flag, an ACK of the wrong number, an RST not exact, then
        # a completing ACK whose data lies past the window.
        "syn-received": [syn(), synack(), synack(), seg(1, "SA", 5100, 1001), seg(1, "A", 5001, 1001), syn(),
                         seg(0, "S", 1300), seg(0, "P", 1001, 0, b"x"), seg(0, "A", 1001, 5900), seg(0, "R", 3000),
                         seg(0, "A", 1001, 5001, b"y" * 40, window=0), seg(1, "R", 5001)],
        # Established: the SYN-ACK again, a SYN, an old ACK, data past the right edge, data with
        # URG, no ACK flag, an inexact RST, data after FIN, an RST, then data after the reset.
        "established": opened() + [synack(), syn(), seg(0, "PA", 1001, 5001, b"a" * 10),
                                   seg(1, "A", 5001, 1001 - 200000), seg(0, "PAU", 1011, 5001, b"b" * 10, urgptr=1),
                                   seg(0, "P", 1011, 0, b"c"), seg(0, "R", 900000), seg(0, "FA", 1011, 5001),
                                   seg(0, "PA", 1012, 5001, b"after fin"), seg(1, "RA", 5001, 1012),
                                   seg(0, "PA", 1012, 5001, b"after reset")],
        "window-edge": [syn(window=64), seg(1, "SA", 5000, 1001, window=64), seg(0, "A", 1001, 5001),
                        seg(0, "PA", 1001, 5001, b"w" * 1400)],
        # Both offer timestamps: a segment without one, one older than the last (PAWS).
        "timestamps": [syn(**TS(100)), synack(**TS(500, 100)), seg(0, "A", 1001, 5001, **TS(101, 500)),
                       seg(0, "PA", 1001, 5001, b"no stamp"), seg(0, "PA", 1001, 5001, b"old", **TS(0x90000000, 500)),
                       seg(0, "PA", 1001, 5001, b"new", **TS(102, 500))],
        # Picked up midway: an RST from a side that has sent nothing, a SYN, no ACK flag, an inexact RST.
        "midstream-resets": [seg(0, "PA", 1001, 5001, b"mid"), seg(1, "A", 5001, 1004), seg(1, "R", 99999),
                             seg(0, "S", 1), seg(0, "P", 1004, 0, b"x"), seg(1, "R", 5001)],
        "completing-ack-refused": [syn(), seg(1, "SA", 5000, 1001, window=16), seg(0, "A", 1001, 5001, b"y" * 40)],
        "urgent": opened() + [seg(0, "PAU", 1001, 5001, b"b" * 10, urgptr=1)],
        "midstream-silent-side-resets": [seg(0, "PA", 1001, 5001, b"mid"), seg(1, "R", 12345)],
        # Out of order beyond the pending bound (2048 bytes), and a segment the tracker cannot verify.
        "pending-bound": opened() + [seg(0, "PA", 1001 + 100 + i * 1000, 5001, bytes(1000)) for i in range(4)],
        # NetBIOS keepalives on 445 past the recognition bound: SMB or not cannot be told.
        "keepalives-on-445": [seg(0, "S", 1000, port=445), seg(1, "SA", 5000, 1001, port=445),
                              seg(0, "A", 1001, 5001, port=445)] +
                             [seg(0, "PA", 1001 + 400 * i, 5001, b"\x85\x00\x00\x00" * 100, port=445) for i in range(3)],
        # RDP to the guest whose server chooses TLS: the channel list is not readable, and the
        # BlueKeep patch counts the session blind.
        "rdp-tls-blind": [rdp(1, "S", 7000), rdp(0, "SA", 3000, 7001), rdp(1, "A", 7001, 3001),
                          rdp(1, "PA", 7001, 3001, RDP_REQUEST),
                          rdp(0, "PA", 3001, 7001 + len(RDP_REQUEST), RDP_CONFIRM_TLS),
                          rdp(1, "PA", 7001 + len(RDP_REQUEST), 3001 + len(RDP_CONFIRM_TLS), bytes.fromhex("16030100200100001c0303") + bytes(29))],
        # The host speaks first: its bytes are read once the client's have been recognised.
        "host-first-hl7": [hl7(0, "S", 1000), hl7(1, "SA", 5000, 1001), hl7(0, "A", 1001, 5001),
                           hl7(1, "PA", 5001, 1001, ACK), hl7(0, "PA", 1001, 5001, ORDER)],
    }


def layer2_frames():
    """Frames the layer-2 police refuses: an ARP for another address, a frame of no IP from
    either side, the guest with another source address, a frame to an address not the
    guest's, DHCP with pad options and none ending the list, a BOOTP datagram that is not DHCP."""
    e = Ether(src=G[0], dst=S[0])
    dhcp = lambda options, op=1: raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
                                     UDP(sport=68, dport=67) / BOOTP(op=op, chaddr=bytes.fromhex("525400770002") + bytes(10)) /
                                     DHCP(options=options))
    return [(0, raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=G[0], psrc=ROGUE[1], pdst=S[1]))),
            (0, raw(Ether(src=G[0], dst=S[0], type=0x88cc) / bytes(30))),
            (1, raw(Ether(src=S[0], dst=G[0], type=0x88cc) / bytes(30))),
            (0, raw(e / IP(src=ROGUE[1], dst=S[1]) / UDP(sport=5353, dport=53))),
            (1, raw(Ether(src=S[0], dst=G[0]) / IP(src=S[1], dst=ROGUE[1]) / UDP(sport=53, dport=5353))),
            (1, raw(Ether(src=S[0], dst=G[0]) / IP(src=S[1], dst=ROGUE[1]) / UDP(sport=67, dport=68) / BOOTP(op=2))),
            (0, raw(e / IP(src=ROGUE[1], dst=S[1]) / UDP(sport=68, dport=67) / BOOTP(op=1))),
            (0, dhcp(["pad", "pad", ("message-type", 1), "pad", "end"])),
            (0, dhcp([("message-type", 1)])[:-1]),
            (0, dhcp([("message-type", 1)])),
            (0, dhcp([("message-type", 1), "end"]) + b"trailer"),
            (0, raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=5) / IP(src="0.0.0.0", dst="255.255.255.255") /
                    UDP(sport=68, dport=67) / BOOTP(op=1, chaddr=bytes.fromhex("525400770002") + bytes(10)) /
                    DHCP(options=[("message-type", 1), "end"]))),
            (0, raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
                    UDP(sport=68, dport=67, len=250) / BOOTP(op=1, chaddr=bytes.fromhex("525400770002") + bytes(10)) /
                    DHCP(options=[("message-type", 1), "end"]))),
            # A client's DISCOVER with sname filled: a field only a server writes, a channel.
            (0, raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
                    UDP(sport=68, dport=67) / BOOTP(op=1, sname=b"exfiltrated", chaddr=bytes.fromhex("525400770002") + bytes(10)) /
                    DHCP(options=[("message-type", 1), "end"]))),
            (0, raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / IP(src=ROGUE[1], dst="255.255.255.255") / UDP(sport=68, dport=67) /
                    BOOTP(op=1, chaddr=bytes.fromhex("525400770002") + bytes(10)) / DHCP(options=[("message-type", 1), "end"]))),
            (0, raw(Ether(src=G[0], dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
                    UDP(sport=68, dport=67) / b"not bootp"))]


def write_seeds(write, records):
    for name, frames in {**tracker_sessions(), "layer2": layer2_frames()}.items():
        for mode, verified in ((1, "verified"), (0, "unverified"), (3, "tracked")):
            write("fuzz_engine", f"{name}-{verified}", bytes([mode]) + records(frames))
