#!/usr/bin/python3
"""netmon's BlueKeep virtual patch live, between two network namespaces: an RDP client on the
hospital side (tests/tools/rdp_probe.py) connects to an RDP server stand-in in the guest with
standard RDP security. Asking for the MS_T120 channel is cut before the guest receives it, even
though a rule allows the connection; the same request without it reaches the guest.

Usage: test_rdp.py NETMON_BINARY [ring|pcap]   (as root)
"""
import json
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import GUEST_IP, Lab, metric, require_root, take_packet_io, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402

NETMON = None
PACKET_IO = "ring"
POLICY = Path(__file__).resolve().parent / "policy-rdp.yaml"
PROBE = Path(__file__).resolve().parents[1] / "tools" / "rdp_probe.py"
METRICS_PORT = port("integration.rdp")
MS_T120 = b"MS_T120".hex()


class RdpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="vitrine-rdp-"))
        cls.lab = Lab("vtp").create()
        cls.received = cls.tmp / "received.hex"
        cls.received.touch()
        cls.lab.spawn([sys.executable, str(PROBE), "server", GUEST_IP, "3389", str(cls.received)], ns=cls.lab.guest_ns)
        wait_for(lambda: ":3389 " in cls.lab.guest(["ss", "-ltn"]).stdout, 10, "the RDP stand-in")
        cls.events = cls.tmp / "events.jsonl"
        cls.netmon = cls.lab.start_netmon(NETMON, POLICY, cls.events, METRICS_PORT, PACKET_IO)

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def probe(self, *channels):
        return self.lab.hosp([sys.executable, str(PROBE), "client", GUEST_IP, "3389", *channels], check=False).stdout.split()

    def test_1_a_client_without_ms_t120_reaches_the_guest(self):
        self.assertEqual(self.probe("rdpdr", "cliprdr"), ["confirmed", "sent"])
        wait_for(lambda: b"cliprdr".hex() in self.received.read_text(), 5, "the guest receiving the Connect-Initial")

    def test_2_a_client_asking_for_ms_t120_is_cut_before_the_guest_has_it(self):
        result = self.probe("rdpdr", "MS_T120")
        self.assertEqual(result[0], "confirmed", "the connection request itself is allowed")
        self.assertNotEqual(result[1:], ["sent"])
        self.assertNotIn(MS_T120, self.received.read_text())
        hits = metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_virtual_patch_hits_total", patch="cve-2019-0708",
                      signature="vitrine.rdp.cve-2019-0708.ms_t120-channel", action="deny")
        self.assertEqual(hits, 1)
        events = [json.loads(line) for line in self.events.read_text().splitlines()]
        patch = [e for e in events if e["event"] == "virtual_patch"]
        self.assertEqual(len(patch), 1)
        self.assertEqual(patch[0]["signature"], "vitrine.rdp.cve-2019-0708.ms_t120-channel")
        self.assertEqual(patch[0]["direction"], "ingress")
        denied = [e for e in events if e["event"] == "flow_denied" and e.get("rule") == "virtualPatches.cve-2019-0708"]
        self.assertEqual(len(denied), 1)


if __name__ == "__main__":
    require_root()
    NETMON = sys.argv.pop(1)
    PACKET_IO = take_packet_io(sys.argv)
    unittest.main(verbosity=2)
