#!/usr/bin/python3
"""netmon judging DICOM associations live, between two network namespaces: dcmtk's echoscu in
the guest, dcmtk's storescp as the PACS. The cabinet's association is verified; one with
another calling or called AE title never reaches the PACS.

Usage: test_dicom.py NETMON_BINARY [ring|pcap]   (as root)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, metric, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

POLICY = Path(__file__).resolve().parent / "policy-dicom.yaml"
METRICS_PORT = port("integration.dicom")
ECHO_TIMEOUT_S = "5"


class DicomTest(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vtd", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        cls.pacs_log, cls.pacs_log_file = cls.log_file("storescp.log")  # what reached the PACS: its verbose log
        cls.lab.spawn(["storescp", "--debug", "--aetitle", "PACS", "--output-directory", str(cls.tmp), "104"],
                      ns=cls.lab.hosp_ns, stdout=cls.pacs_log_file, stderr=cls.pacs_log_file)
        cls.wait_listening(cls.lab.hosp, 104, "storescp")

    def echo(self, calling, called="PACS"):
        return self.lab.guest(["echoscu", "--acse-timeout", ECHO_TIMEOUT_S, "--dimse-timeout", ECHO_TIMEOUT_S,
                               "--aetitle", calling, "--call", called, HOSP_IP, "104"], check=False)

    def rq_metric(self, verdict):
        return metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_messages_total", protocol="DICOM",
                      type="A-ASSOCIATE-RQ", direction="egress", verdict=verdict)

    def test_1_the_cabinet_verifies_its_association_with_the_pacs(self):
        r = self.echo("CABINET")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        wait_for(lambda: "CABINET" in self.pacs_log.read_text(), 5, "the PACS logging the association")
        self.assertGreaterEqual(self.rq_metric("allow"), 1)
        latency = metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_message_ack_latency_seconds_count",
                         protocol="DICOM")
        self.assertGreaterEqual(latency, 1, "the A-ASSOCIATE-AC was matched to the request")

    def test_2_other_titles_never_reach_the_pacs(self):
        for calling, called in (("INTRUDER", "PACS"), ("CABINET", "ARCHIVE")):
            r = self.echo(calling, called)
            self.assertNotEqual(r.returncode, 0, f"{calling} -> {called} must be refused")
        log = self.pacs_log.read_text()
        self.assertNotIn("INTRUDER", log)
        self.assertNotIn("ARCHIVE", log)
        self.assertGreaterEqual(self.rq_metric("deny"), 2)


if __name__ == "__main__":
    main()
