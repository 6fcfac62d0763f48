#!/usr/bin/python3
"""netmon's BlueKeep virtual patch live, between two network namespaces: an RDP client on the
hospital side (tests/tools/rdp_probe.py) connects to an RDP server stand-in in the guest with
standard RDP security. Asking for the MS_T120 channel is cut before the guest receives it, even
though a rule allows the connection; the same request without it reaches the guest.

Usage: test_rdp.py NETMON_BINARY [ring|pcap]   (as root)
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import GUEST_IP, metric, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

POLICY = Path(__file__).resolve().parent / "policy-rdp.yaml"
PROBE = Path(__file__).resolve().parents[1] / "tools" / "rdp_probe.py"
METRICS_PORT = port("integration.rdp")
MS_T120 = b"MS_T120".hex()


class RdpTest(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vtp", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        cls.received = cls.tmp / "received.hex"
        cls.received.touch()
        cls.lab.spawn([sys.executable, str(PROBE), "server", GUEST_IP, "3389", str(cls.received)], ns=cls.lab.guest_ns)
        cls.wait_listening(cls.lab.guest, 3389, "the RDP stand-in")

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
    main()
