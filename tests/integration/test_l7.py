#!/usr/bin/python3
"""netmon judging what flows say, live between two network namespaces with real servers and
clients: DNS names (dnsmasq, dig), HTTP requests (python's http.server, curl) and TLS server
name and version (openssl s_server and s_client). What the policy refuses never reaches the
server, and the events say what was read.

Usage: test_l7.py NETMON_BINARY [ring|pcap]   (as root)
"""
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, metric, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

POLICY = Path(__file__).resolve().parent / "policy-l7.yaml"
METRICS_PORT = port("integration.l7")
CLIENT_TIMEOUT_S = 5
TLS = ["-cipher", "DEFAULT@SECLEVEL=0"]  # OpenSSL 3 refuses TLS 1.0 and 1.1 above level 0


class L7Test(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vt7", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        lab = cls.lab
        www = cls.tmp / "www"
        (www / "formulary").mkdir(parents=True)
        (www / "formulary" / "list.txt").write_text("amoxicillin 500mg\n")
        (www / "admin.txt").write_text("secret\n")
        cls.http_log, cls.http_log_file = cls.log_file("http.log")  # the server's access log: what reached it
        cls.http = lab.spawn([sys.executable, "-m", "http.server", "8080", "--bind", HOSP_IP, "--directory", str(www)],
                             ns=lab.hosp_ns, stderr=cls.http_log_file)
        lab.spawn(["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", f"--listen-address={HOSP_IP}",
                   "--bind-interfaces", "--address=/pharmacy.hospital.local/10.77.0.50",
                   "--address=/tunnel.example.com/10.66.6.6"], ns=lab.hosp_ns)
        key, cert = cls.tmp / "key.pem", cls.tmp / "cert.pem"
        lab.in_ns(lab.hosp_ns, ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                                "-out", str(cert), "-days", "1", "-subj", "/CN=console.hospital.local"])
        for port, version in ((4431, "-tls1_1"), (4432, "-tls1_2")):
            lab.spawn(["openssl", "s_server", "-www", "-accept", str(port), version, *TLS, "-cert", str(cert),
                       "-key", str(key)], ns=lab.hosp_ns)
        wait_for(lambda: all(f":{p} " in lab.hosp(["ss", "-ltn"]).stdout for p in (8080, 4431, 4432)), 10,
                 "the HTTP and TLS servers")
        wait_for(lambda: lab.hosp(["ss", "-lun", "sport = :53"]).stdout.count(HOSP_IP), 10, "dnsmasq")

    def denied_events(self):
        lines = self.events.read_text().splitlines() if self.events.exists() else []
        return [e for e in map(json.loads, lines) if e["event"] == "flow_denied"]

    def denied_with(self, name, value):
        """Waits for the flow_denied event whose attributes carry `name` = `value`."""
        def find():
            return next((e for e in self.denied_events() if e.get("attributes", {}).get(name) == value), None)
        return wait_for(find, 5, f"a flow_denied event with {name}={value}")

    def dig(self, name):
        return self.lab.guest(["dig", "+short", f"+time={CLIENT_TIMEOUT_S}", "+tries=1", f"@{HOSP_IP}", name],
                              check=False)

    def curl(self, path, host="pharmacy.hospital.local", method="GET"):
        return self.lab.guest(["curl", "-sS", "--max-time", str(CLIENT_TIMEOUT_S), "-X", method, "-H", f"Host: {host}",
                               f"http://{HOSP_IP}:8080{path}"], check=False)

    def tls(self, port, server_name="console.hospital.local"):
        return self.lab.guest(["timeout", str(CLIENT_TIMEOUT_S), "openssl", "s_client", "-connect", f"{HOSP_IP}:{port}",
                               "-servername", server_name, *TLS], check=False, stdin=subprocess.DEVNULL)

    def test_1_dns_names_of_the_hospital_resolve_and_others_are_dropped(self):
        self.assertEqual(self.dig("pharmacy.hospital.local").stdout.strip(), "10.77.0.50")
        r = self.dig("a1b2c3.tunnel.example.com")
        self.assertNotIn("10.66.6.6", r.stdout, "the query must not reach dnsmasq and be answered")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        event = self.denied_with("dns.name", "a1b2c3.tunnel.example.com")
        self.assertEqual(event["rule"], "default")

    def test_2_http_requests_pass_only_as_the_rule_describes(self):
        r = self.curl("/formulary/list.txt")
        self.assertEqual((r.returncode, r.stdout), (0, "amoxicillin 500mg\n"), r.stderr)
        for path, host, method in (("/admin.txt", "pharmacy.hospital.local", "GET"),
                                   ("/formulary/list.txt", "pharmacy.hospital.local", "POST"),
                                   ("/formulary/list.txt", "evil.example.com", "GET")):
            r = self.curl(path, host, method)
            self.assertNotEqual(r.returncode, 0, f"{method} {host}{path} must be refused")
            self.assertEqual(r.stdout, "")
        self.denied_with("http.path", "/admin.txt")
        self.denied_with("http.method", "POST")
        self.denied_with("http.host", "evil.example.com")
        log = self.http_log.read_text()
        self.assertIn("GET /formulary/list.txt", log)
        for refused in ("/admin.txt", "POST"):
            self.assertNotIn(refused, log, "a refused request reached the server")
        self.assertEqual(log.count("GET /formulary/list.txt"), 1, "only the allowed request reached the server")

    def test_3_tls_below_the_minimum_version_is_cut_at_the_servers_hello(self):
        resets_before = metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_tcp_resets_sent_total")
        ok = self.tls(4432)
        self.assertIn("Protocol  : TLSv1.2", ok.stdout, ok.stderr)
        old = self.tls(4431)
        self.assertNotIn("Protocol  : TLSv1.1", old.stdout, "the TLS 1.1 handshake must not complete")
        self.assertNotIn("BEGIN CERTIFICATE", old.stdout, "the server's hello and certificate never reach the guest")
        event = self.denied_with("tls.version", "1.1")
        self.assertEqual(event["attributes"]["tls.sni"], "console.hospital.local")
        self.assertIn("judged again", event["reason"])
        # The resets are sent as the flow is cut, and may be counted a moment after its event.
        wait_for(lambda: metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_tcp_resets_sent_total") > resets_before,
                 5, "the resets that cut the flow counted")

    def test_4_tls_to_another_name_is_refused_at_the_client_hello(self):
        r = self.tls(4432, server_name="update.vendor.example")
        self.assertNotIn("Protocol  :", r.stdout)
        self.denied_with("tls.sni", "update.vendor.example")


if __name__ == "__main__":
    main()
