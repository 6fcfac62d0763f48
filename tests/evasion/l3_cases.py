"""Two evasion classes that are not about a stream's bytes, built as frames:

  orientation: a forged SYN-ACK seen first, then the forger's SYN. netmon used to take the
               receiver of a first SYN-ACK for the one who opened the flow, so a hospital host
               the policy keeps from the cabinet's port 445 was judged as the cabinet's own
               egress to it. The twin: the cabinet opening the same service itself.
  dhcp:        datagrams between DHCP's ports that are no DHCP exchange of the guest's: a
               channel out (the guest to any host's port 67) and in (any LAN host's port 67 to
               the guest's 68), and a DHCP reply from a host that is no DHCP server. The twin:
               the guest's DISCOVER and its server's OFFER.

Each case gives frames in order with, for each, whether netmon must forward it.
"""
from scapy.all import BOOTP, DHCP, IP, TCP, UDP, Ether

import sessions

GUEST_MAC, GUEST_IP = "52:54:00:77:00:02", "10.77.0.2"

# smb-virtual-patches' policy: the baseline, its console at 10.77.0.10 (SMB to it allowed,
# inbound SMB from anyone but the management set denied).
ORIENTATION_POLICY = sessions.ROOT / "tests" / "golden" / "smb-virtual-patches" / "policy.yaml"
CONSOLE_MAC, CONSOLE_IP = "52:54:00:77:00:0a", "10.77.0.10"

DHCP_POLICY_TEXT = """apiVersion: vitrine/v1
name: evasion-dhcp
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
defaultAction: deny
layer2: {dhcpClient: true, dhcpServers: [SERVER]}
"""


def _tcp(src_mac, src, dst_mac, dst, sport, dport, seq, ack, flags, data=b""):
    return Ether(src=src_mac, dst=dst_mac) / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, seq=seq, ack=ack,
                                                                         flags=flags, window=64240) / data


def orientation(attack, console_ip=CONSOLE_IP, console_mac=CONSOLE_MAC, guest_mac=GUEST_MAC):
    """[(frame, forwarded?)]. The attack: the console forges the cabinet's SYN-ACK, then opens
    the cabinet's 445 from its own 445; nothing of it may reach the cabinet. The twin: the
    cabinet opens the console's 445."""
    # nmap's SMB negotiation, from the golden case's capture.
    negotiate = sessions.turns_from_capture(ORIENTATION_POLICY.parent / "input.pcap",
                                            GUEST_IP, 37284, CONSOLE_IP, 445).turns[0][1]
    if attack:
        c, s = (console_mac, console_ip, 445), (guest_mac, GUEST_IP, 445)
        frames = [(_tcp(*c[:2], *s[:2], 445, 445, 7000, 9001, "SA"), False)]
    else:
        c, s = (guest_mac, GUEST_IP, 49300), (console_mac, console_ip, 445)
        frames = []
    cm, cip, cp = c
    sm, sip, sp = s
    frames += [(_tcp(cm, cip, sm, sip, cp, sp, 100, 0, "S"), not attack),
               (_tcp(sm, sip, cm, cip, sp, cp, 500, 101, "SA"), not attack),
               (_tcp(cm, cip, sm, sip, cp, sp, 101, 501, "A"), not attack),
               (_tcp(cm, cip, sm, sip, cp, sp, 101, 501, "PA", negotiate), not attack)]
    return frames


def _dhcp(src_mac, dst_mac, src, dst, sport, dport, op, chaddr, message_type):
    return (Ether(src=src_mac, dst=dst_mac) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) /
            BOOTP(op=op, chaddr=bytes.fromhex(chaddr.replace(":", "")) + bytes(10), xid=0x3903f326) /
            DHCP(options=[("message-type", message_type), "end"]))


def dhcp(attack, server_ip, server_mac, lan_ip, lan_mac):
    if not attack:
        return [(_dhcp(GUEST_MAC, "ff:ff:ff:ff:ff:ff", "0.0.0.0", "255.255.255.255", 68, 67, 1, GUEST_MAC, "discover"), True),
                (_dhcp(server_mac, GUEST_MAC, server_ip, "255.255.255.255", 67, 68, 2, GUEST_MAC, "offer"), True)]
    out = Ether(src=GUEST_MAC, dst=lan_mac) / IP(src=GUEST_IP, dst=lan_ip) / UDP(sport=68, dport=67) / b"exfiltrated: formulary.db"
    inward = Ether(src=lan_mac, dst=GUEST_MAC) / IP(src=lan_ip, dst=GUEST_IP) / UDP(sport=67, dport=68) / (b"\xcc" * 64)
    rogue = _dhcp(lan_mac, GUEST_MAC, lan_ip, "255.255.255.255", 67, 68, 2, GUEST_MAC, "offer")
    # Well-formed discovers that carry more, or go elsewhere: after the End option, in the
    # sname field, to the broadcast address in a frame to one LAN host, to a multicast group.
    discover = _dhcp(GUEST_MAC, "ff:ff:ff:ff:ff:ff", "0.0.0.0", "255.255.255.255", 68, 67, 1, GUEST_MAC, "discover")
    after_end = discover.copy()
    after_end[DHCP].add_payload(b"exfiltrated: formulary.db")
    in_sname = discover.copy()
    in_sname[BOOTP].sname = b"formulary.db"
    to_one_host = discover.copy()
    to_one_host[Ether].dst = lan_mac
    to_a_group = _dhcp(GUEST_MAC, "01:00:5e:01:02:03", "0.0.0.0", "239.1.2.3", 68, 67, 1, GUEST_MAC, "discover")
    return [(out, False), (inward, False), (rogue, False), (after_end, False), (in_sname, False),
            (to_one_host, False), (to_a_group, False)]


def side_of(frame):
    """Where a frame is sent from: 'guest' or 'hosp'."""
    return "guest" if frame[Ether].src.lower() == GUEST_MAC else "hosp"
