#!/usr/bin/python3
"""netmon's policy reload (SIGHUP) under live traffic between two network namespaces: a valid
policy is swapped in and the open connection it now denies is cut; an invalid one is refused,
the running policy stays in force and nothing it would have allowed gets through.

Usage: test_reload.py NETMON_BINARY [ring|pcap]   (as root)
"""
import hashlib
import json
import shutil
import signal
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, Lab, metric, require_root, take_packet_io, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402

NETMON = None
PACKET_IO = "ring"
METRICS_PORT = port("integration.reload")
CONNECT_TIMEOUT_S = 5

HEADER = """apiVersion: vitrine/v1
name: {name}
guest: {{mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}}
defaultAction: deny
rules:
"""
RULE = """  - name: {name}
    direction: egress
    transport: tcp
    ports: [{port}]
    action: {action}
    mode: {mode}
"""

# Runs in the guest: opens a connection to the echo server, proves it works, then keeps it open
# and reports, line by line on stdout, whether each later exchange still works.
HOLDER = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"hello\n"); print("echo", s.recv(100).decode().strip(), flush=True)
for line in sys.stdin:
    try:
        s.sendall(b"again\n"); data = s.recv(100)
        print("echo", data.decode().strip() if data else "closed", flush=True)
    except OSError as e:
        print("error", type(e).__name__, flush=True)
"""


def policy_text(name, rules):
    """rules: (name, port, action) or (name, port, action, mode)."""
    return HEADER.format(name=name) + "".join(
        RULE.format(name=r[0], port=r[1], action=r[2], mode=r[3] if len(r) > 3 else "enforce") for r in rules)


FIRST = policy_text("first", [("echo-a", 9090, "allow"), ("echo-b", 9091, "allow")])


class ReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="vitrine-reload-"))
        cls.lab = Lab("vtr").create()
        for port in (9090, 9091, 9092):
            cls.lab.spawn(["socat", f"TCP-LISTEN:{port},bind={HOSP_IP},reuseaddr,fork", "EXEC:cat"],
                          ns=cls.lab.hosp_ns)
        wait_for(lambda: cls.lab.hosp(["ss", "-ltn"]).stdout.count(HOSP_IP) >= 3, 10, "the echo servers")
        cls.policy = cls.tmp / "policy.yaml"

    def setUp(self):
        # Each test begins from the same policy with a netmon of its own: none depends on
        # what another reloaded, nor on the order they run in.
        self.policy.write_text(FIRST)
        self.events = self.tmp / f"events-{self._testMethodName}.jsonl"
        self.netmon = self.lab.start_netmon(NETMON, self.policy, self.events, METRICS_PORT, PACKET_IO)

    def tearDown(self):
        self.lab.stop(self.netmon)

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def connect(self, port):
        code = ("import socket\ns=socket.socket(); s.settimeout(%d)\n"
                "try:\n s.connect(('%s',%d)); print('connected')\n"
                "except Exception as e: print(type(e).__name__)\n" % (CONNECT_TIMEOUT_S, HOSP_IP, port))
        return self.lab.guest([sys.executable, "-c", code]).stdout.strip()

    def events_of(self, kind):
        return [e for e in (json.loads(l) for l in self.events.read_text().splitlines()) if e["event"] == kind]

    def reload(self, text, kind):
        before = len(self.events_of(kind))
        self.policy.write_text(text)
        self.netmon.send_signal(signal.SIGHUP)
        return wait_for(lambda: self.events_of(kind)[before:], 15, f"a {kind} event")[0]

    def test_1_a_valid_policy_is_swapped_in_and_the_flow_it_denies_is_cut(self):
        holder = self.lab.spawn(["ip", "netns", "exec", self.lab.guest_ns, sys.executable, "-c", HOLDER,
                                 HOSP_IP, "9091"], stdin=-1, stdout=-1)
        self.assertEqual(holder.stdout.readline().strip(), "echo hello")
        holder.stdin.write("\n")
        holder.stdin.flush()
        self.assertEqual(holder.stdout.readline().strip(), "echo again", "the connection works before")

        text = policy_text("second", [("echo-a", 9090, "allow"), ("echo-b", 9091, "deny")])
        event = self.reload(text, "policy_reloaded")
        self.assertEqual(event["policy"], "second")
        self.assertEqual(event["policy_sha256"], hashlib.sha256(text.encode()).hexdigest())
        self.assertGreaterEqual(event["flows_rejudged"], 1)
        self.assertEqual(event["flows_cut"], 1)

        holder.stdin.write("\n")
        holder.stdin.flush()
        after = holder.stdout.readline().strip()
        self.assertIn(after, ("error ConnectionResetError", "echo closed"), "the open connection is cut")
        self.lab.stop(holder)
        self.assertEqual(self.connect(9091), "ConnectionRefusedError", "new connections are denied")
        self.assertEqual(self.connect(9090), "connected", "what stays allowed still works")
        denied = [e for e in self.events_of("flow_denied") if e["dport"] == 9091]
        self.assertEqual(denied[0]["reason"], "policy reload")

        m = self.lab.scrape(METRICS_PORT)
        self.assertEqual(metric(m, "vitrine_netmon_policy_info", policy="second",
                                sha256=hashlib.sha256(text.encode()).hexdigest()), 1)
        self.assertEqual(metric(m, "vitrine_netmon_policy_info", policy="first"), 0, "the old one is gone")
        self.assertEqual(metric(m, "vitrine_netmon_policy_reloads_total", result="accepted"), 1)
        self.assertEqual(metric(m, "vitrine_netmon_policy_reload_cut_flows_total"), 1)
        self.assertGreater(metric(m, "vitrine_netmon_policy_loaded_timestamp_seconds"), 1.7e9)

    def test_2_an_invalid_policy_is_refused_and_the_running_one_stays(self):
        # It would allow 9092, were it valid: nothing may leak while it is refused.
        broken = policy_text("third", [("echo-c", 9092, "allow")]).replace("action: allow", "action: alow")
        event = self.reload(broken, "policy_refused")
        self.assertIn("action: expected one of allow, deny, alert, got 'alow'", event["reason"])
        self.assertIn(str(self.policy) + ":", event["reason"], "the error names file, line and column")
        self.assertEqual(event["policy"], "first", "names the policy still in force")
        self.assertEqual(self.connect(9092), "ConnectionRefusedError")
        self.assertEqual(self.connect(9090), "connected")
        m = self.lab.scrape(METRICS_PORT)
        self.assertEqual(metric(m, "vitrine_netmon_policy_reloads_total", result="refused"), 1)
        self.assertEqual(metric(m, "vitrine_netmon_policy_info", policy="first"), 1)
        self.assertIsNone(self.netmon.poll(), "netmon keeps running")

    def test_3_monitor_mode_lets_through_and_records_what_enforce_blocks(self):
        monitored = policy_text("fourth", [("echo-a", 9090, "allow"), ("echo-b", 9091, "deny", "monitor")])
        self.reload(monitored, "policy_reloaded")
        self.assertEqual(self.connect(9091), "connected", "monitor: the flow passes")
        would = wait_for(lambda: [e for e in self.events_of("flow_would_deny") if e["dport"] == 9091], 10,
                         "the flow_would_deny event")
        self.assertEqual(would[0]["rule"], "echo-b")
        self.assertEqual(metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_would_deny_flows_total", rule="echo-b"), 1)
        self.reload(monitored.replace("mode: monitor", "mode: enforce"), "policy_reloaded")
        self.assertEqual(self.connect(9091), "ConnectionRefusedError", "enforce: the same flow is denied")


if __name__ == "__main__":
    require_root()
    NETMON = sys.argv.pop(1)
    PACKET_IO = take_packet_io(sys.argv)
    unittest.main(verbosity=2)
