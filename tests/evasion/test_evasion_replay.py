#!/usr/bin/python3
"""Every evasion class of variants.py, built from golden cases' attack sessions and their benign
twins, through netmon's replay: the attack is denied (or never reaches the far side whole), the
twin passes whole, and what netmon forwarded is byte for byte a prefix of what its inspector
read, with no byte forwarded in two versions.

Usage: test_evasion_replay.py NETMON_BINARY
"""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import l3_cases  # noqa: E402
import sessions  # noqa: E402
from variants import VARIANTS, last_byte_alone, plain, split_first  # noqa: E402

NETMON = None
GOLDEN = sessions.ROOT / "tests" / "golden"

# A golden case's attack flow (client, server) and its benign twin: another flow of the same
# capture, or (None) the attack session cut before its attack.
CASES = {
    "hl7-forbidden-type": ("hl7-sender", ("10.77.0.2", 60766, "10.77.0.10", 2575), ("10.77.0.2", 60764, "10.77.0.10", 2575)),
    "smb-ms17-010-probe": ("smb-virtual-patches", ("10.77.0.2", 37284, "10.77.0.10", 445), None),
    "smb-ms08-067-call": ("smb-virtual-patches", ("10.77.0.2", 37302, "10.77.0.10", 445), None),
    "rdp-bluekeep-channel": ("rdp-bluekeep", ("10.77.0.1", 44810, "10.77.0.2", 3389), ("10.77.0.1", 44796, "10.77.0.2", 3389)),
    "dicom-forbidden-calling-ae": ("dicom-ae-titles", ("10.77.0.2", 37874, "10.77.0.10", 104), ("10.77.0.2", 37870, "10.77.0.10", 104)),
    "modbus-write": ("modbus-functions", ("10.77.0.2", 59918, "10.77.0.20", 502), ("10.77.0.2", 59906, "10.77.0.20", 502)),
}


KEEPALIVE = b"\x85\x00\x00\x00"  # a NetBIOS session keepalive (RFC 1002 4.3.8), which Windows skips
# The shipped baseline at a site whose management host (10.77.0.1) may reach the cabinet's SMB
# and RDP: a rule that names ports only, so only the virtual patches stand between an attack
# and XP.
MANAGEMENT_POLICY = f"""apiVersion: vitrine/v1
name: site-management
extends: {sessions.ROOT / "policies" / "xp-cabinet-baseline.yaml"}
guest: {{mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}}
sets: {{console: [10.77.0.10], management: [10.77.0.1]}}
"""


def from_management(session):
    """The same turns, sent by the management host to the guest's 445."""
    return sessions.Session(sessions.Endpoint("52:54:00:77:00:01", "10.77.0.1", session.client.port),
                            sessions.Endpoint("52:54:00:77:00:02", "10.77.0.2", 445), session.turns,
                            session.attack_turn)


def with_first_turn_prefixed(session, prefix):
    """The session with `prefix` before its first client turn's bytes (an attack turn is kept)."""
    turns = list(session.turns)
    side, data = turns[0]
    turns[0] = (side, prefix + data)
    s = sessions.Session(session.client, session.server, turns, session.attack_turn)
    return s


class Evasion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.work = Path(cls.tmp.name)
        cls.cases = {name: cls.load(name, *spec) for name, spec in CASES.items()}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def run_session(cls, name, frames, policy):
        pcap = cls.work / f"{name}.pcap"
        sessions.write(frames, pcap)
        return sessions.replay(NETMON, pcap, policy, cls.work)

    @classmethod
    def verdict(cls, out, session):
        c, s = session.client, session.server
        for f in out["flows"]:
            if (f["src"], f["sport"], f["dst"], f["dport"]) == (c.ip, c.port, s.ip, s.port):
                return f["verdict"]
        raise AssertionError(f"no flow {c.ip}:{c.port} -> {s.ip}:{s.port} in the replay")

    @classmethod
    def load(cls, name, case, attack_flow, benign_flow):
        policy = GOLDEN / case / "policy.yaml"
        attack = sessions.turns_from_capture(GOLDEN / case / "input.pcap", *attack_flow)
        # The attack turn: the first client turn that, sent, makes netmon deny the session.
        for k, (side, _) in enumerate(attack.turns):
            if side != "c":
                continue
            cut = attack.truncated(k + 1)
            if cls.verdict(cls.run_session(f"{name}-find", sessions.build(cut), policy), cut) == "deny":
                attack.attack_turn = k
                break
        assert attack.attack_turn is not None, f"{name}: the session as built is not denied"
        attack.turns = attack.turns[:attack.attack_turn + 1]
        benign = (sessions.turns_from_capture(GOLDEN / case / "input.pcap", *benign_flow) if benign_flow
                  else attack.truncated(attack.attack_turn))
        return policy, attack, benign

    def check(self, case, variant):
        policy, attack, benign = self.cases[case]
        self.check_sessions(f"{case} {variant}", policy, attack, benign, *VARIANTS[variant])

    def test_smb_session_service_packets_before_the_first_message(self):
        # NetBIOS keepalives (0x85), which Windows and Samba skip, before the first SMB message:
        # in its segment, and in one of their own. Recognition skips them as the host does, so
        # the virtual patches read the attack and the twin is named SMB and passes whole.
        for case in ("smb-ms17-010-probe", "smb-ms08-067-call"):
            policy, attack, benign = self.cases[case]
            attack, benign = (with_first_turn_prefixed(s, KEEPALIVE * 2) for s in (attack, benign))
            self.check_sessions(f"{case} keepalives-first", policy, attack, benign, plain, "reads", "whole")
            self.check_sessions(f"{case} keepalives-own-segment", policy, attack, benign, split_first(8), "reads", "whole")

    def test_an_hl7_message_is_judged_at_its_fs(self):
        # FS and CR in segments of their own: a receiver that acts at the FS must not get the
        # forbidden message through its FS before netmon has judged it.
        policy, attack, benign = self.cases["hl7-forbidden-type"]
        received = self.check_sessions("hl7-forbidden-type last-byte-alone", policy, attack, benign,
                                       last_byte_alone, "reads", "whole")
        self.assertFalse(received.startswith(attack.client_bytes()[:-1]), "the message crossed through its FS")

    def test_smb_from_management_with_keepalives_first(self):
        # Where only the virtual patches judge SMB (a port-only rule), keepalives first must not
        # hide the attack: two are skipped as the host skips them; a kilobyte of them leaves the
        # protocol undetermined at the recognition bound, which is onUndetermined (deny).
        policy = self.work / "management.yaml"
        policy.write_text(MANAGEMENT_POLICY)
        for case in ("smb-ms17-010-probe", "smb-ms08-067-call"):
            _, attack, benign = self.cases[case]
            attack, benign = from_management(attack), from_management(benign)
            self.check_sessions(f"{case} from-management", policy, attack, benign, plain, "reads", "whole")
            two = [with_first_turn_prefixed(s, KEEPALIVE * 2) for s in (attack, benign)]
            self.check_sessions(f"{case} from-management keepalives-own-segment", policy, *two, split_first(8),
                                "reads", "whole")
            many = with_first_turn_prefixed(attack, KEEPALIVE * 256)
            out = self.run_session(f"{case}-from-management-1KiB-of-keepalives", sessions.build(many), policy)
            received, _ = sessions.received_stream(out["forwarded"], many.client, many.server)
            self.assertEqual(self.verdict(out, many), "deny", f"{case}: a kilobyte of keepalives first")
            self.assertFalse(received.startswith(many.client_bytes()), f"{case}: the attack crossed whole")

    def check_sessions(self, name, policy, attack, benign, change, expect, benign_expect):
        """Runs the attack and its twin; returns what of the attack reached the far side."""
        for is_attack, session in ((True, attack), (False, benign)):
            label = f"{name} {'attack' if is_attack else 'benign twin'}"
            frames = change(sessions.build(session), session, is_attack)
            out = self.run_session(f"{name}-{is_attack}".replace(" ", "-"), frames, policy)
            verdict = self.verdict(out, session)
            received, conflicts = sessions.received_stream(out["forwarded"], session.client, session.server)
            read = sessions.inspected_stream(out["inspected"], session.client)
            self.assertEqual(conflicts, [], f"{label}: bytes forwarded in two versions")
            self.assertEqual(received, read[:len(received)], f"{label}: forwarded what the inspector did not read")
            if is_attack:
                attack_received = received
                whole = session.client_bytes()
                self.assertFalse(received.startswith(whole), f"{label}: the attack reached the far side whole")
                if expect == "reads":
                    self.assertEqual(verdict, "deny", f"{label}: not denied")
            else:
                self.assertNotEqual(verdict, "deny", f"{label}: the benign twin was denied")
                self.assertFalse([e for e in out["events"] if e["event"] == "virtual_patch"], label)
                if benign_expect == "whole":
                    self.assertEqual(received, session.client_bytes(), f"{label}: did not cross whole")
        return attack_received


class L3Evasion(unittest.TestCase):
    """The classes that are not about a stream's bytes (l3_cases.py), through replay: exactly the
    frames the case says are forwarded are."""

    def check(self, name, frames, policy):
        with tempfile.TemporaryDirectory() as tmp:
            pcap = Path(tmp) / f"{name}.pcap"
            sessions.wrpcap(str(pcap), [f for f, _ in frames])
            out = sessions.replay(NETMON, pcap, policy, tmp)
            forwarded = {bytes(p) for p in sessions.rdpcap(str(out["forwarded"]))}
        for frame, expected in frames:
            summary = frame.summary()
            self.assertEqual(bytes(frame) in forwarded, expected, f"{name}: {summary}: forwarded is not {expected}")
        return out

    def test_a_forged_syn_ack_does_not_make_the_cabinet_the_opener(self):
        out = self.check("orientation-attack", l3_cases.orientation(True), l3_cases.ORIENTATION_POLICY)
        rules = {e.get("rule") for e in out["events"] if e["event"] == "flow_denied"}
        self.assertIn("onMidstream", rules, "the SYN-ACK first: no handshake seen")
        self.assertIn("no-inbound-smb-rdp", rules, "its SYN: judged as the console opening the cabinet's 445")

    def test_its_twin_the_cabinet_opening_the_console_passes(self):
        self.check("orientation-twin", l3_cases.orientation(False), l3_cases.ORIENTATION_POLICY)

    def test_dhcp_ports_carry_only_the_guests_dhcp(self):
        with tempfile.TemporaryDirectory() as tmp:
            policy = Path(tmp) / "dhcp.yaml"
            policy.write_text(l3_cases.DHCP_POLICY_TEXT.replace("SERVER", "10.77.0.1"))
            for attack in (True, False):
                self.check(f"dhcp-{attack}", l3_cases.dhcp(attack, "10.77.0.1", "52:54:00:77:00:01",
                                                           "10.77.0.66", "52:54:00:77:00:66"), policy)


def add_tests():
    for case in CASES:
        for variant in VARIANTS:
            def test(self, case=case, variant=variant):
                self.check(case, variant)
            setattr(Evasion, f"test_{case}_{variant}".replace("-", "_"), test)


add_tests()

if __name__ == "__main__":
    NETMON = sys.argv.pop(1)
    unittest.main(verbosity=1)
