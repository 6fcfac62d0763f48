#!/usr/bin/python3
"""What the hospital's own scanner, a flood with forged sources and a compromised guest's flood
do to the cabinet behind netmon: nothing it would notice. While each runs (and after it), the
cabinet keeps one MLLP session open with an order every 100 ms and opens a new connection every
second (tests/tools/cabinet_probe.py): every new connection succeeds, the session never stalls
for a second, netmon's memory stays under its bound, and its counters say what it dropped and
why. The floods are the real tools: nmap's full SYN scan and hping3.

Usage: test_floods.py NETMON_BINARY [ring|pcap]   (as root)
"""
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import GUEST_IP, HOSP_IP, metric  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

HERE = Path(__file__).resolve().parent
POLICY = HERE / "policy-floods.yaml"
LISTENER = HERE.parents[1] / "deploy" / "lib" / "mllp_listener.py"
PROBE = HERE.parent / "tools" / "cabinet_probe.py"
METRICS_PORT = port("integration.floods")
HL7_PORT = 2575
# The cabinet is watched for a second before the flood, during it, and three seconds after.
FLOOD_S, BEFORE_S, AFTER_S = 8, 1, 3
# The open session may pause, never stall: a dispensing cabinet's user waits for an order's ACK.
MAX_STALL_S = 1.0
# netmon's memory under any flood: its rings (on each interface two priority lanes of 4 MiB,
# bulk's 8 MiB each way: 48 MiB), both sides' unanswered shares full (2 x 16,384 flows of about
# 0.5 KiB: 16 MiB), the deny cache (8,192 entries) and the engine itself (15 MiB with nDPI):
# 96 MiB.
RSS_BOUND_MIB = 96


def vm_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class FloodTest(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vtf", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        received = cls.tmp / "received.txt"
        cls.lab.spawn([sys.executable, str(LISTENER), HOSP_IP, str(HL7_PORT), str(received)], ns=cls.lab.hosp_ns)
        cls.wait_listening(cls.lab.hosp, HL7_PORT, "the MLLP listener")

    def under(self, floods):
        """Runs the cabinet's probe around `floods` ([(namespace, argv)]); returns its result, the
        largest RSS netmon had, and the metrics before and after."""
        before = self.lab.scrape(METRICS_PORT)
        peak = [vm_rss_mib(self.netmon.pid)]
        done = threading.Event()

        def sample():
            while not done.wait(0.2):
                peak.append(vm_rss_mib(self.netmon.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        probe = self.lab.spawn([sys.executable, str(PROBE), HOSP_IP, str(HL7_PORT), str(BEFORE_S + FLOOD_S + AFTER_S)],
                               ns=self.lab.guest_ns, stdout=subprocess.PIPE)
        try:
            time.sleep(BEFORE_S)  # the probe's first second is before the flood: timed, not synchronised
            running = [self.lab.spawn(argv, ns=ns) for ns, argv in floods]
            time.sleep(FLOOD_S)
            for p in running:
                if p.poll() is not None:
                    self.fail(f"the flood {p.args} ended early: {p.stderr.read()}")
                self.lab.stop(p)
            out, err = probe.communicate(timeout=AFTER_S + 30)
        finally:
            done.set()
            sampler.join()
        self.assertEqual(probe.returncode, 0, err)
        after = self.lab.scrape(METRICS_PORT)
        result = json.loads(out)
        print(f"\n  {self.packet_io}: {result['session_acks']} orders on the open session (longest gap "
              f"{result['session_max_gap_s']:.3f} s), {sum(c['ok'] for c in result['connections'])} of "
              f"{len(result['connections'])} new connections, netmon at most {max(peak):.1f} MiB", file=sys.stderr)
        return result, max(peak), before, after

    def assert_cabinet_unharmed(self, result, peak_mib):
        self.assertEqual(result["session_error"], "", "the open MLLP session broke")
        self.assertLess(result["session_max_gap_s"], MAX_STALL_S, "the open session stalled")
        connections = result["connections"]
        self.assertGreaterEqual(len(connections), BEFORE_S + FLOOD_S + AFTER_S - 1)
        failed = [c for c in connections if not c["ok"]]
        self.assertEqual(failed, [], "a new connection failed")
        self.assertLess(peak_mib, RSS_BOUND_MIB)

    @staticmethod
    def delta(before, after, name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    def test_a_full_port_scan(self):
        result, peak, before, after = self.under([(self.lab.hosp_ns, ["nmap", "-sS", "-p-", "-T5", "-n", "-Pn", GUEST_IP])])
        self.assert_cabinet_unharmed(result, peak)
        denied = self.delta(before, after, "vitrine_netmon_rule_hits_total", rule="default", action="deny")
        self.assertGreater(denied, 5000, "the scan's SYNs, each denied at once")
        # Denied at their first packet, they took no flow entry: the table holds the cabinet's own.
        self.assertLess(metric(after, "vitrine_netmon_flow_table_flows"), 100)
        self.assertLessEqual(metric(after, "vitrine_netmon_remembered_flows", kind="denied"), 8192)

    def test_a_syn_flood_with_forged_sources(self):
        flood = ["hping3", "-S", "--flood", "--rand-source"]
        result, peak, before, after = self.under([(self.lab.hosp_ns, flood + ["-p", "445", GUEST_IP]),
                                                  (self.lab.hosp_ns, flood + ["-p", "3389", GUEST_IP])])
        self.assert_cabinet_unharmed(result, peak)
        self.assertGreater(self.delta(before, after, "vitrine_netmon_rule_hits_total", rule="default", action="deny"), 10000)
        # The allowed port's SYNs filled only the network's share of unanswered flows, oldest out.
        self.assertGreater(self.delta(before, after, "vitrine_netmon_flow_table_evictions_total",
                                      reason="unanswered_from_network"), 1000)
        self.assertLessEqual(metric(after, "vitrine_netmon_flow_table_unanswered_flows", opener="network"), 65536 / 4)
        self.assertEqual(self.delta(before, after, "vitrine_netmon_priority_lane_dropped_packets_total"), 0,
                         "what the flood filled was the bulk lane")

    def test_a_flood_from_the_guest(self):
        # A worm on the guest, as WannaCry does: SYNs to port 445 as fast as it can send them.
        result, peak, before, after = self.under([(self.lab.guest_ns, ["hping3", "-S", "--flood", "-p", "445", HOSP_IP])])
        self.assert_cabinet_unharmed(result, peak)
        self.assertGreater(self.delta(before, after, "vitrine_netmon_rule_hits_total", rule="default", action="deny"), 10000)
        self.assertGreater(self.delta(before, after, "vitrine_netmon_packets_total", direction="egress", verdict="deny"), 10000)
        self.assertEqual(self.delta(before, after, "vitrine_netmon_priority_lane_dropped_packets_total"), 0)


if __name__ == "__main__":
    main()
