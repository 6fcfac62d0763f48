#!/usr/bin/python3
"""The evasion variants (variants.py) through the live relay, a representative of each class for
every golden attack and its benign twin: frames sent from the guest's and the hospital's
namespaces as the variant orders them, what netmon forwards read on the far side. The attack is
denied (or never crosses whole), the twin crosses whole, and what crossed is what replay's
inspector reads of the same frames (one engine), in one version.

The namespaces' interfaces carry no address, so their kernels drop what arrives (no reset from a
stack that never opened the connection); raw sockets send and read the frames.

Usage: test_evasion_live.py NETMON_BINARY [ring|pcap]   (as root)
"""
import ctypes
import json
import os
import select
import socket
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "deploy" / "lib"))
import l3_cases  # noqa: E402
import sessions  # noqa: E402
import test_evasion_replay  # noqa: E402 (its test class is not imported by name: not run here)
from variants import VARIANTS, split_first  # noqa: E402
from vitrine_lab import GUEST_IP, GUEST_MAC, HOSP_IP, HOSP_MAC, Lab, require_root, take_packet_io  # noqa: E402
from lab_ports import port  # noqa: E402

NETMON = None
PACKET_IO = "ring"
METRICS_PORT = port("integration.evasion_live")
# One of each class: recognition on the stream, the stream's anchor, insertions, overlaps.
LIVE_VARIANTS = ["plain", "tiny-first-1", "second-half-first", "decoy-far-ahead", "insert-bad-tcp-checksum",
                 "insert-no-ack", "insert-vlan-tagged", "insert-damaged-options", "overlap-covering",
                 "retransmit-differs"]
# An inexact reset then silence past tcpClosedTimeout takes real seconds: one case.
SLOW = [("hl7-forbidden-type", "rst-outside-window"), ("smb-ms08-067-call", "rst-past-a-hole")]
# A frame netmon forwards arrives within this; one it drops is waited for no longer.
ARRIVAL_S = 0.15
# Gaps in a variant's timing longer than this are the variant's point (silence), kept live.
KEPT_GAP_S = 1.0

CLONE_NEWNET = 0x40000000
PACKET_IGNORE_OUTGOING = 23
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def packet_socket(ns):
    """A raw socket on eth0 of namespace `ns` (opened there, used from here)."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.setsockopt(263, PACKET_IGNORE_OUTGOING, 1)  # SOL_PACKET: not what this side sends
        s.bind(("eth0", 0))
        s.setblocking(False)
    finally:
        _libc.setns(own, CLONE_NEWNET)
        os.close(own)
        os.close(target)
    return s


def to_lab(session):
    """The session between the lab's two hosts: the golden cases' server 10.77.0.10 is the
    hospital namespace here."""
    for e in (session.client, session.server):
        if e.ip == "10.77.0.10":
            e.ip = HOSP_IP
        e.mac = GUEST_MAC if e.ip == GUEST_IP else HOSP_MAC
    return session


class LiveEvasion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.work = Path(cls.tmp.name)
        test_evasion_replay.NETMON = NETMON  # the attack turns are found by replay, as there
        test_evasion_replay.Evasion.work = cls.work
        cls.cases = {}
        for name, spec in test_evasion_replay.CASES.items():
            policy, attack, benign = test_evasion_replay.Evasion.load(name, *spec)
            live_policy = cls.work / f"{name}.yaml"
            text = policy.read_text().replace("10.77.0.10", HOSP_IP)
            live_policy.write_text(text.replace("extends: ../../../", f"extends: {sessions.ROOT}/"))
            cls.cases[name] = (live_policy, to_lab(attack), to_lab(benign))
        cls.lab = Lab("vte").create()
        for ns in (cls.lab.guest_ns, cls.lab.hosp_ns):
            cls.lab.in_ns(ns, ["ip", "addr", "flush", "dev", "eth0"])
        cls.sock = {"guest": packet_socket(cls.lab.guest_ns), "hosp": packet_socket(cls.lab.hosp_ns)}
        cls.netmon = None
        cls.policy = None
        cls.port = 30000

    @classmethod
    def tearDownClass(cls):
        for s in cls.sock.values():
            s.close()
        cls.lab.destroy()
        cls.tmp.cleanup()

    def use_policy(self, policy):
        if self.policy == policy:
            return
        if type(self).netmon is not None:
            self.lab.stop(type(self).netmon)
        type(self).events = self.work / f"{policy.stem}-events.jsonl"
        type(self).netmon = self.lab.start_netmon(NETMON, policy, self.events, METRICS_PORT, PACKET_IO)
        type(self).policy = policy
        self.await_relay()

    def await_relay(self):
        # netmon answers on its metrics port before its rings are open: relaying starts when an
        # ARP request for the guest crosses.
        who_has = bytes(sessions.Ether(src=HOSP_MAC, dst="ff:ff:ff:ff:ff:ff") /
                        sessions.ARP(op=1, hwsrc=HOSP_MAC, psrc=HOSP_IP, pdst=GUEST_IP))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.sock["hosp"].send(who_has)
            end = time.monotonic() + 0.2
            while (left := end - time.monotonic()) > 0 and select.select([self.sock["guest"]], [], [], left)[0]:
                if self.sock["guest"].recv(65535) == who_has:
                    return
        self.fail("netmon does not relay")

    def side_of(self, ip):
        return "guest" if ip == GUEST_IP else "hosp"

    @staticmethod
    def sender_of(pkt):
        # By MAC, not address: a DHCP client sends from 0.0.0.0.
        return "guest" if pkt[sessions.Ether].src.lower() == GUEST_MAC else "hosp"

    def send_all(self, packets):
        """Sends each frame from its sender's side, waiting for it on the other (or for
        ARRIVAL_S, when netmon drops it); returns the frames each side received."""
        got = {"guest": [], "hosp": []}

        def read_until(side, want, deadline):
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.sock[side]], [], [], left)[0]:
                    return False
                frame = self.sock[side].recv(65535)
                got[side].append(frame)
                if frame == want:
                    return True

        previous = None
        for pkt in packets:
            sender = self.sender_of(pkt)
            receiver = "hosp" if sender == "guest" else "guest"
            if previous is not None and float(pkt.time) - float(previous.time) > KEPT_GAP_S:
                time.sleep(float(pkt.time) - float(previous.time))  # the silence is the variant
            raw = bytes(pkt)
            self.sock[sender].send(raw)
            read_until(receiver, raw, time.monotonic() + ARRIVAL_S)
            previous = pkt
        for side in got:  # what is still on its way (resets netmon sent)
            read_until(side, None, time.monotonic() + ARRIVAL_S)
        return got

    def denied(self, session):
        if not self.events.exists():
            return False
        for line in self.events.read_text().splitlines():
            e = json.loads(line)
            if e["event"] in ("flow_denied", "virtual_patch") and e.get("sport") == session.client.port and \
                    e.get("src") == session.client.ip:
                return True
        return False

    def run_variant(self, case, variant):
        policy, attack, benign = self.cases[case]
        change, expect, _ = VARIANTS[variant]
        self.run_sessions(f"{case}-{variant}", policy, attack, benign, change, expect)

    def test_smb_session_service_packets_before_the_first_message(self):
        # As in replay: NetBIOS keepalives, which Windows skips, in a segment of their own first.
        policy, attack, benign = self.cases["smb-ms17-010-probe"]
        attack, benign = (test_evasion_replay.with_first_turn_prefixed(s, b"\x85\x00\x00\x00" * 2)
                          for s in (attack, benign))
        self.run_sessions("smb-ms17-010-probe-keepalives-first", policy, attack, benign, split_first(8), "reads")

    def run_sessions(self, name, policy, attack, benign, change, expect):
        self.use_policy(policy)
        for is_attack, original in ((True, attack), (False, benign)):
            label = f"{PACKET_IO} {name} {'attack' if is_attack else 'benign twin'}"
            type(self).port += 1
            session = sessions.Session(sessions.Endpoint(original.client.mac, original.client.ip, type(self).port),
                                       original.server, original.turns, original.attack_turn)
            pcap = self.work / f"live-{name}-{is_attack}.pcap"
            sessions.write(change(sessions.build(session, start=time.time()), session, is_attack), pcap)
            packets = sessions.rdpcap(str(pcap))
            got = self.send_all(packets)
            far = self.work / f"far-{name}-{is_attack}.pcap"
            sessions.wrpcap(str(far), [sessions.Ether(f) for f in got[self.side_of(session.server.ip)]])
            received, conflicts = sessions.received_stream(far, session.client, session.server)
            read = sessions.inspected_stream(sessions.replay(NETMON, pcap, policy, self.work)["inspected"], session.client)
            self.assertEqual(conflicts, [], f"{label}: bytes that crossed in two versions")
            self.assertEqual(received, read[:len(received)], f"{label}: what crossed is not what netmon reads")
            if is_attack:
                self.assertFalse(received.startswith(session.client_bytes()), f"{label}: the attack crossed whole")
                if expect == "reads":
                    self.assertTrue(self.denied(session), f"{label}: not denied")
            else:
                self.assertFalse(self.denied(session), f"{label}: the benign twin was denied")
                self.assertEqual(received, session.client_bytes(), f"{label}: did not cross whole")

    def run_frames(self, label, policy, frames):
        """l3_cases' frames sent live: exactly those the case says are forwarded arrive."""
        self.use_policy(policy)
        got = self.send_all([f for f, _ in frames])
        for frame, expected in frames:
            receiver = "hosp" if self.sender_of(frame) == "guest" else "guest"
            self.assertEqual(bytes(frame) in got[receiver], expected,
                             f"{PACKET_IO} {label}: {frame.summary()}: forwarded is not {expected}")

    def test_a_forged_syn_ack_does_not_make_the_cabinet_the_opener(self):
        policy = self.cases["smb-ms17-010-probe"][0]
        for attack in (True, False):
            self.run_frames(f"orientation attack={attack}", policy,
                            l3_cases.orientation(attack, HOSP_IP, HOSP_MAC, GUEST_MAC))

    def test_dhcp_ports_carry_only_the_guests_dhcp(self):
        policy = self.work / "dhcp.yaml"
        policy.write_text(l3_cases.DHCP_POLICY_TEXT.replace("SERVER", HOSP_IP))
        for attack in (True, False):
            self.run_frames(f"dhcp attack={attack}", policy,
                            l3_cases.dhcp(attack, HOSP_IP, HOSP_MAC, "10.77.0.66", "52:54:00:77:00:66"))


def add_tests():
    for case in test_evasion_replay.CASES:
        for variant in LIVE_VARIANTS:
            setattr(LiveEvasion, f"test_{case}_{variant}".replace("-", "_"),
                    lambda self, case=case, variant=variant: self.run_variant(case, variant))
    for case, variant in SLOW:
        setattr(LiveEvasion, f"test_{case}_{variant}".replace("-", "_"),
                lambda self, case=case, variant=variant: self.run_variant(case, variant))


add_tests()

if __name__ == "__main__":
    require_root()
    NETMON = sys.argv.pop(1)
    PACKET_IO = take_packet_io(sys.argv)
    unittest.main(verbosity=1)
