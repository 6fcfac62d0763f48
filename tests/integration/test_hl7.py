#!/usr/bin/python3
"""netmon judging HL7 v2 messages live, between two network namespaces: a sender in the guest,
the pharmacy's MLLP listener (deploy/lib/mllp_listener.py) on the hospital side. An allowed
message type arrives and is acknowledged; a forbidden one never reaches the listener whole,
whether it opens a connection or follows an allowed message on it, even cut into segments.

Usage: test_hl7.py NETMON_BINARY [ring|pcap]   (as root)
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, metric, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

POLICY = Path(__file__).resolve().parent / "policy-hl7.yaml"
LISTENER = Path(__file__).resolve().parents[2] / "deploy" / "lib" / "mllp_listener.py"
SENDER = Path(__file__).resolve().parents[1] / "tools" / "hl7_send.py"
METRICS_PORT = port("integration.hl7")
PORT = 2575


def message(msg_type, control, app="CABINET", patient="PAT-0042^^^HOSP^MR"):
    return (f"MSH|^~\\&|{app}|WARD3|PHARMACY|MAIN|20261127083000||{msg_type}|{control}|P|2.5\\r"
            f"PID|1||{patient}||DOE^JANE||19700101|F\\r"
            f"RXE|1|AMOX500^Amoxicillin 500mg^LOCAL|500||mg\\r")


class Hl7Test(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vth", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        cls.received = cls.tmp / "received.txt"
        cls.received.touch()
        cls.lab.spawn([sys.executable, str(LISTENER), HOSP_IP, str(PORT), str(cls.received)], ns=cls.lab.hosp_ns)
        cls.wait_listening(cls.lab.hosp, PORT, "the MLLP listener")

    def send(self, *messages, segment=1400):
        r = self.lab.guest([sys.executable, str(SENDER), HOSP_IP, str(PORT), str(segment), *messages], check=False)
        return r.stdout.split()

    def received_controls(self):
        return [line.split("|")[9] for line in self.received.read_text().splitlines() if line.count("|") > 9]

    def messages_metric(self, msg_type, verdict):
        return metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_messages_total", protocol="HL7",
                      type=msg_type, direction="egress", verdict=verdict)

    def denied_event(self, msg_type):
        def find():
            for line in self.events.read_text().splitlines():
                e = json.loads(line)
                if e["event"] == "flow_denied" and e.get("attributes", {}).get("hl7.message_type", "").startswith(msg_type):
                    return e
            return None
        return wait_for(find, 5, f"the flow_denied event of {msg_type}")

    def test_1_an_allowed_order_arrives_and_is_acknowledged(self):
        self.assertEqual(self.send(message("RDE^O11^RDE_O11", "ORD1")), ["ack"])
        self.assertIn("ORD1", self.received_controls())
        self.assertGreaterEqual(self.messages_metric("RDE^O11", "allow"), 1)
        latency = metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_message_ack_latency_seconds_count", protocol="HL7")
        self.assertGreaterEqual(latency, 1, "the listener's ACK was matched to the order")

    def test_2_a_forbidden_type_opening_a_connection_never_arrives(self):
        result = self.send(message("ADT^A04", "ADT1"), segment=60)  # several segments, all held
        self.assertNotEqual(result, ["ack"])
        self.assertNotIn("ADT1", self.received_controls())
        event = self.denied_event("ADT^A04")
        self.assertEqual(event["rule"], "default")
        self.assertIn("patient_ref", event)
        self.assertNotIn("PAT-0042", json.dumps(event))
        self.assertNotIn("DOE", self.events.read_text(), "no patient data in events")

    def test_3_a_forbidden_type_after_an_allowed_one_is_cut_on_its_last_segment(self):
        result = self.send(message("RDE^O11", "ORD2"), message("ORM^O01", "ORM2"), segment=60)
        self.assertEqual(result[0], "ack")
        self.assertNotEqual(result[1:], ["ack"])
        controls = self.received_controls()
        self.assertIn("ORD2", controls)
        self.assertNotIn("ORM2", controls, "the listener got the forbidden message whole")
        self.assertGreaterEqual(self.messages_metric("ORM^O01", "deny"), 1)
        self.denied_event("ORM^O01")

    def test_4_the_same_type_from_another_application_is_refused(self):
        self.send(message("RDE^O11", "SPOOF1", app="NOT-THE-CABINET"))
        self.assertNotIn("SPOOF1", self.received_controls())


if __name__ == "__main__":
    main()
