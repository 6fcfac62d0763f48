#!/usr/bin/python3
"""netmon's events reach a real syslog receiver (Debian's rsyslogd) as RFC 5424 messages over UDP
and over TCP: rsyslog's own parser names the version, facility, severity, app, pid and message id,
and hands back, for every line of the events file, the same JSON (with the cabinet added).

Usage: test_syslog_rsyslog.py NETMON
"""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
sys.path.insert(0, str(ROOT / "deploy" / "lib"))
from siem import Rsyslog  # noqa: E402
from vitrine_lab import wait_for  # noqa: E402

NETMON = None
CASE = ROOT / "tests" / "golden" / "smb-virtual-patches"
SEVERITY = {"virtual_patch": "1", "flow_denied": "4"}


class SyslogToRsyslog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.siem = Rsyslog(Path(cls.tmp.name) / "siem")

    @classmethod
    def tearDownClass(cls):
        cls.siem.stop()
        cls.tmp.cleanup()

    def replay(self, transport, cabinet, facility):
        events = Path(self.tmp.name) / f"{transport}-events.jsonl"
        r = subprocess.run([NETMON, "--syslog", self.siem.url(transport), "--syslog-facility", facility,
                            "--cabinet", cabinet, "replay", "--pcap", str(CASE / "input.pcap"),
                            "--policy", str(CASE / "policy.yaml"), "--flows", str(Path(self.tmp.name) / "f.jsonl"),
                            "--events", str(events)] + (CASE / "replay.args").read_text().split(),
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("could not be sent", r.stderr)
        return [json.loads(l) for l in events.read_text().splitlines()], r.stderr

    def check(self, transport, cabinet, facility):
        written, log = self.replay(transport, cabinet, facility)
        self.assertGreaterEqual(len(written), 4, "the capture has virtual patch hits and denied flows")

        def arrived():
            return [m for m in self.siem.messages() if m["event"].get("cabinet") == cabinet]
        got = wait_for(lambda: len(arrived()) >= len(written) and arrived(), 30,
                       f"{len(written)} events over {transport} in rsyslog")
        self.assertEqual(len(got), len(written))
        for sent, m in zip(written, got):
            self.assertEqual(m["event"], sent | {"cabinet": cabinet}, "the message is the event's JSON")
            self.assertEqual(m["version"], "1", "rsyslog parsed it as RFC 5424")
            self.assertEqual(m["app"], "vitrine-netmon")
            self.assertEqual(m["msgid"], sent["event"])
            self.assertEqual(m["severity"], SEVERITY[sent["event"]])
            self.assertEqual(m["facility"], facility)
            self.assertTrue(m["procid"].isdigit())
            self.assertTrue(m["bom"], "UTF-8 message marked by a BOM (RFC 5424 6.4)")
            self.assertEqual(m["sd"], '[origin software="vitrine" swVersion="0.1.0"]')
            self.assertTrue(m["timestamp"].startswith(sent["time"][:19]), (m["timestamp"], sent["time"]))

    def test_udp(self):
        self.check("udp", "ward3-udp", "local0")

    def test_tcp_octet_counted(self):
        self.check("tcp", "ward3-tcp", "local4")

    def test_a_target_that_is_not_one_is_refused(self):
        r = subprocess.run([NETMON, "--syslog", "syslog.example:514", "replay", "--pcap", str(CASE / "input.pcap"),
                            "--flows", "-", "--events", str(Path(self.tmp.name) / "x.jsonl")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("must start with udp:// or tcp://", r.stderr)


if __name__ == "__main__":
    NETMON = sys.argv.pop(1)
    unittest.main(verbosity=2)
