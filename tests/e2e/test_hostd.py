#!/usr/bin/python3
"""vitrine-hostd running the stand-in cabinet under a root libvirtd: netmon first, then the
guest; `vitrine status`, `events`, `stop`, `start` and `snapshot` through the root-only control
socket; hostd's metrics from libvirt; a killed QEMU is restarted with its disk intact; a killed
hostd leaves guest and netmon running and its successor adopts them; a killed netmon is
restarted; a guest that keeps stopping is declared a crash loop and left alone until an
operator starts it; SIGTERM stops it all.

Usage: test_hostd.py HOSTD NETMON VITRINE GUEST_DIR   (as root)
"""
import fcntl
import hashlib
import pwd
import json
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import sys
import unittest
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_standin_libvirt as env  # noqa: E402  (its set-up: store, cabinet, hospital, libvirtd)
sys.path.insert(0, str(env.ROOT / "tests" / "observability"))
import check_events  # noqa: E402
import console_page  # noqa: E402
import check_metrics_catalog as catalog  # noqa: E402
sys.path.insert(0, str(env.ROOT / "tests" / "tools"))
from siem import Rsyslog  # noqa: E402
from vitrine_lab import GUEST_IP, metric, parse_metrics, require_root, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402

HOSTD = None
PROMETHEUS_PORT = port("e2e.hostd.prometheus")


def unit_privileges():
    """setpriv's arguments for the capability bounding set and NoNewPrivileges of
    deploy/systemd/vitrine-hostd@.service.in."""
    unit = (env.ROOT / "deploy" / "systemd" / "vitrine-hostd@.service.in").read_text()
    caps = re.search(r"^CapabilityBoundingSet=(.+)$", unit, re.M).group(1).split()
    assert re.search(r"^NoNewPrivileges=yes$", unit, re.M)
    bounding = ",".join(["-all"] + ["+" + c.removeprefix("CAP_").lower() for c in caps])
    return ["setpriv", "--bounding-set", bounding, "--no-new-privs", "--"]


def lock_holder(path):
    """The pid holding a POSIX write lock on `path` (F_GETLK), or None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        flock = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        l_type, _, _, _, pid = struct.unpack("@hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, flock))
        return None if l_type == fcntl.F_UNLCK else pid
    finally:
        os.close(fd)


def proc_status(pid):
    return dict(l.split(":", 1) for l in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in l)


def process_gone(pid):
    """Ended: no such process, or a zombie nobody has reaped yet."""
    try:
        return proc_status(pid)["State"].split()[0] == "Z"
    except FileNotFoundError:
        return True


def standin_running():
    return env.standin.domain_running(env.NAME)


class HostdSupervision(env.StandinOnLibvirt):
    """Reuses the stand-in's environment; hostd, not the test, starts and restarts the guest."""

    @classmethod
    def setUpClass(cls):
        # COM3 is a mediated port: a second scanner, here the slave side of a pty the test writes to.
        cls.scanner, scanner_tty = os.openpty()
        super().setUpClass(start_netmon=False, com3_device=os.ttyname(scanner_tty))
        cls.state = cls.tmp / "state"
        cls.socket = cls.state / f"{env.NAME}.sock"
        # The site's SIEM: hostd forwards its events and netmon's to it.
        cls.siem = Rsyslog(cls.tmp / "siem")
        cls.hostd = cls.start_hostd()

    @classmethod
    def tearDownClass(cls):
        cls.siem.stop()
        # A test that failed half way may leave a netmon behind, outside the lab's namespaces:
        # the one holding the cabinet's lock goes too, stopped or not.
        holder = lock_holder(cls.state / f"{env.NAME}.netmon.lock")
        if holder:
            os.kill(holder, signal.SIGKILL)
        super().tearDownClass()

    @classmethod
    def start_hostd(cls):
        # Under the packaged unit's capability bounding set and no_new_privs, as systemd would run
        # it: whatever hostd and netmon do in these tests, they do without other privileges.
        p = cls.lab.spawn(unit_privileges() + [HOSTD, "--cabinet", str(cls.cabinet), "--netmon", env.NETMON,
                           "--state-dir", str(cls.state), "--shutdown-timeout", "5",
                           "--syslog", cls.siem.url("tcp"), "--syslog-facility", "local3"],
                          stderr=cls.tmp.joinpath("hostd.log").open("a"))
        return p

    def vitrine(self, *args, check=True):
        r = subprocess.run([env.VITRINE, *args, "--socket", str(self.socket)], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"vitrine {' '.join(args)}: exit {r.returncode}: {r.stderr}")
        return r

    def status(self):
        return json.loads(self.vitrine("status", "--json").stdout)

    def all_events(self):
        return [json.loads(l) for l in self.vitrine("events", "--json", "--last", "1000").stdout.splitlines()]

    def hostd_metrics(self):
        return parse_metrics(self.fetch_text(f"http://127.0.0.1:{env.HOSTD_METRICS_PORT}/metrics"))

    def boots(self):
        return len([l for l in self.hl7.read_text().splitlines() if "ADT^A08" in l])

    def hostd_log(self):
        return (self.tmp / "hostd.log").read_text()

    def netmon_pid(self):
        """The netmon that holds the cabinet's lock, as the kernel says (hostd keeps no pid file)."""
        return lock_holder(self.state / f"{env.NAME}.netmon.lock")

    def send_barcode(self, code):
        arrived, scans = env.standin.scan_barcode(self.com2, self.hl7, code)
        self.assertTrue(arrived, f"barcode {code} did not arrive after {scans} scans")

    # The inherited tests would start the guest themselves: not here.
    test_1_boots_under_libvirt_and_its_hl7_reaches_the_pharmacy = None
    test_2_a_barcode_on_com2_arrives_as_an_hl7_message = None
    test_3_the_disk_counter_survives_qemu_being_killed = None
    test_4_usb_devices_reach_the_guest_only_by_policy = None

    def test_a1_hostd_starts_netmon_then_the_guest(self):
        self.wait_hl7("boot=1")
        log = self.hostd_log()
        self.assertLess(log.index("started netmon"), log.index("started guest"))
        # hostd runs with no capability beyond the unit's bounding set, and cannot gain any.
        expected = subprocess.run(unit_privileges() + ["grep", "-E", "^(CapBnd|NoNewPrivs)", "/proc/self/status"],
                                  capture_output=True, text=True, check=True).stdout
        status = Path(f"/proc/{self.hostd.pid}/status").read_text()
        self.assertEqual("".join(l + "\n" for l in status.splitlines() if re.match(r"(CapBnd|NoNewPrivs)", l)),
                         expected)
        # netmon, which parses what the network sends, runs with nothing: its own user, no
        # capability in any set, no way to gain one, and its own system-call allowlist.
        netmon = proc_status(self.netmon_pid())
        user = pwd.getpwnam("vitrine-netmon")
        self.assertEqual(netmon["Uid"].split(), [str(user.pw_uid)] * 4)
        self.assertEqual(netmon["Gid"].split(), [str(user.pw_gid)] * 4)
        self.assertEqual(netmon["Groups"].strip(), "")
        for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(netmon[caps], 16), 0, caps)
        self.assertEqual(netmon["NoNewPrivs"].strip(), "1")
        self.assertEqual(netmon["Seccomp"].strip(), "2")

    def test_a2_status_shows_guest_netmon_policy_and_counters(self):
        self.wait_hl7("boot=1")
        st = self.status()
        self.assertEqual(st["guest"]["state"], "running")
        self.assertEqual(st["guest"]["supervision"], "supervising")
        self.assertGreater(st["guest"]["uptime_seconds"], 0)
        self.assertEqual(st["netmon"]["state"], "running")
        self.assertEqual(st["netmon"]["pid"], self.netmon_pid())
        self.assertEqual(st["netmon"]["policy_sha256"], hashlib.sha256(env.POLICY.read_bytes()).hexdigest())
        counters = st["netmon"]["counters"]
        self.assertTrue(counters["reachable"], counters)
        self.assertGreater(counters["packets"]["allow"], 0)     # the HL7 that arrived
        wait_for(lambda: "forbidden connection" in self.console(), 60, "the forbidden try")
        self.assertGreater(self.status()["netmon"]["counters"]["flows"].get("deny", 0), 0)
        human = self.vitrine("status").stdout
        self.assertIn(f"cabinet {env.NAME}: running", human)
        self.assertIn("denied", human)

    def test_a3_hostd_metrics_come_from_libvirt(self):
        self.wait_hl7("boot=1")
        m = self.hostd_metrics()
        self.assertEqual(metric(m, "vitrine_domain_up", domain=env.NAME), 1)
        self.assertEqual(metric(m, "vitrine_domain_info_state"), 1)   # VIR_DOMAIN_RUNNING
        self.assertEqual(metric(m, "vitrine_netmon_up"), 1)
        self.assertEqual(metric(m, "vitrine_domain_crash_loop"), 0)
        self.assertGreater(metric(m, "vitrine_domain_info_cpu_time_seconds_total"), 0)
        self.assertGreater(metric(m, "vitrine_domain_uptime_seconds"), 0)
        self.assertEqual(metric(m, "vitrine_domain_info_maximum_memory_bytes"), 256 << 20)
        self.assertGreater(metric(m, "vitrine_domain_block_stats_write_bytes_total", target_device="hda"), 0)
        nic = self.lab.guest_if
        self.assertGreater(metric(m, "vitrine_domain_interface_stats_transmit_bytes_total", target_device=nic), 0)
        self.assertGreater(metric(m, "vitrine_domain_interface_stats_receive_bytes_total", target_device=nic), 0)
        # Everything hostd and netmon expose is in the metrics catalog (a histogram by its name).
        listed = set(catalog.catalog(env.ROOT))
        # (prometheus-cpp's own exposer_* series are the library's, not vitrine's.)
        exposed = {re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in listed
                   else name for (name, _) in list(m) + list(self.lab.scrape(env.METRICS_PORT))
                   if name.startswith("vitrine_")}
        self.assertEqual(exposed - listed, set(), "exposed but not in deploy/observability/METRICS.md")
        # USB passthrough runs under hostd (this machine has no USB bus: nothing present).
        self.assertEqual(metric(m, "vitrine_usb_devices_present"), 0)
        self.assertEqual(json.loads(self.vitrine("devices", "--json").stdout), [])
        self.assertIn("0 devices", self.vitrine("devices").stdout)

    def test_a4_the_control_socket_is_root_only(self):
        self.assertEqual(stat.S_IMODE(self.socket.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(self.state.stat().st_mode), 0o700)
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", env.VITRINE,
                            "status", "--socket", str(self.socket)], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("Permission denied", r.stderr)
        # Not a request: refused with a reason, and hostd carries on.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(self.socket))
            s.sendall(b"not json\n")
            answer = json.loads(s.makefile().readline())
        self.assertFalse(answer["ok"])
        self.assertEqual(self.status()["guest"]["state"], "running")
        self.assertGreaterEqual(metric(self.hostd_metrics(), "vitrine_hostd_control_refused_total"), 1)

    def test_a5_a_mediated_serial_port_passes_only_what_its_filter_allows(self):
        self.wait_hl7("boot=1")
        wait_for(lambda: {"serial_device_opened", "serial_guest_connected"} <=
                 {e["event"] for e in self.all_events() if e.get("com") == 3}, 30, "hostd to open both sides of COM3")
        os.write(self.scanner, b"RX-MEDIATED-OK\n")
        self.wait_hl7("barcode=RX-MEDIATED-OK")
        os.write(self.scanner, b"RX-\x1b[2J-ESCAPE\n")      # a "scanner" typing a terminal escape
        os.write(self.scanner, b"A" * 100 + b"\n")            # longer than the 64 bytes allowed
        os.write(self.scanner, b"RX-AFTER-DROPS\n")
        self.wait_hl7("barcode=RX-AFTER-DROPS")
        received = self.hl7.read_text()
        self.assertNotIn("ESCAPE", received)
        self.assertNotIn("A" * 64, received)
        drops = [e for e in self.all_events() if e["event"] == "serial_line_dropped"]
        self.assertEqual(sorted(e["reason"] for e in drops), ["not_printable", "too_long"])
        self.assertEqual(sorted(e["bytes"] for e in drops), [15, 101])
        self.assertNotIn("ESCAPE", json.dumps(drops), "dropped lines are described, never recorded")
        m = self.hostd_metrics()
        self.assertEqual(metric(m, "vitrine_serial_dropped_total", com="3", reason="not_printable"), 1)
        self.assertEqual(metric(m, "vitrine_serial_dropped_total", com="3", reason="too_long"), 1)
        self.assertEqual(metric(m, "vitrine_serial_lines_total", com="3", verdict="forwarded"), 2)
        self.assertEqual(metric(m, "vitrine_serial_bytes_total", com="3", direction="to_guest"),
                         len(b"RX-MEDIATED-OK\n") + len(b"RX-AFTER-DROPS\n"))
        self.assertEqual(metric(m, "vitrine_serial_connected", com="3", side="guest"), 1)

    def test_a6_prometheus_scrapes_the_cabinet_and_an_alert_fires(self):
        """A real Prometheus (Debian's) scrapes hostd and netmon with the shipped rules; every
        dashboard query returns data; a provoked violation fires its alert."""
        self.wait_hl7("boot=1")
        # The shipped configuration, with this run's ports, names and a faster pace.
        shipped = env.ROOT / "deploy" / "observability" / "prometheus"
        config = self.tmp / "prometheus.yml"
        text = (shipped / "prometheus.yml").read_text()
        for old, new in (("scrape_interval: 15s", "scrape_interval: 1s"),
                         ("evaluation_interval: 15s", "evaluation_interval: 1s"),
                         ("/usr/share/vitrine/observability/prometheus/", f"{shipped}/"),
                         ("127.0.0.1:9470", f"127.0.0.1:{env.HOSTD_METRICS_PORT}"),
                         ("127.0.0.1:9471", f"127.0.0.1:{env.METRICS_PORT}"),
                         ("SITE", "e2e"), ("CABINET", "standin")):
            self.assertIn(old, text)
            text = text.replace(old, new)
        config.write_text(text)
        consoles = env.ROOT / "deploy" / "observability" / "prometheus"
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
             f"--web.console.templates={consoles / 'consoles'}",
             f"--web.console.libraries={consoles / 'console_libraries'}"],
            stdout=subprocess.DEVNULL, stderr=(self.tmp / "prometheus.log").open("w"))
        self.addCleanup(prometheus.wait)
        self.addCleanup(prometheus.terminate)

        def api(path, **params):
            import urllib.parse
            import urllib.request
            url = f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/{path}?{urllib.parse.urlencode(params)}"
            with urllib.request.urlopen(url, timeout=5) as r:
                answer = json.loads(r.read())
            self.assertEqual(answer["status"], "success", answer)
            return answer["data"]

        def targets_up():
            try:
                active = api("targets")["activeTargets"]
            except OSError:
                return False
            return len(active) == 2 and all(t["health"] == "up" for t in active)
        wait_for(targets_up, 60, "Prometheus to scrape hostd and netmon")
        series = api("query", query='vitrine_domain_up{cabinet="standin"}')["result"]
        self.assertEqual([s["value"][1] for s in series], ["1"])
        self.assertEqual(api("query", query="vitrine_netmon_up")["result"][0]["metric"]["site"], "e2e")
        # Every panel of both dashboards: its query parses and returns data for this cabinet.
        for board in ("vitrine-fleet.json", "vitrine-cabinet.json"):
            dashboard = json.loads((env.ROOT / "deploy" / "observability" / "grafana" / board).read_text())
            for panel in dashboard["panels"]:
                expr = panel["targets"][0]["expr"].replace("$cabinet", "standin")
                wait_for(lambda: api("query", query=expr)["result"], 30,
                         f"data for {board} panel {panel['title']!r}: {expr}", interval=1)
        def violation_alert():
            return [a for a in api("alerts")["alerts"]
                    if a["labels"]["alertname"] == "VitrinePolicyViolations" and a["state"] == "firing"
                    and a["labels"].get("rule") == "default"]
        # A violation: a hospital host tries the cabinet's SMB port; the policy refuses it. Until
        # then no default denial has happened since Prometheus began: the alert is the probe's.
        self.assertEqual(violation_alert(), [], "the alert fired before the violation")
        self.lab.hosp(["/usr/bin/python3", "-c", "import socket; s = socket.socket(); s.settimeout(2); "
                       f"s.connect_ex(('{GUEST_IP}', 445))"], check=False)

        alert = wait_for(violation_alert, 60, "the VitrinePolicyViolations alert to fire")[0]
        self.assertEqual(alert["labels"]["severity"], "warning")
        self.assertIn("flows denied by default", alert["annotations"]["summary"])
        self.check_console_pages()

    def check_console_pages(self):
        """The console pages Prometheus serves for sites without Grafana, as Chromium renders
        them: every figure equals what the API answers at the page's evaluation time, the
        cabinet's state and its firing alert are there, and screenshots are kept."""
        prometheus = f"http://127.0.0.1:{PROMETHEUS_PORT}"
        artefacts = Path(os.environ.get("VITRINE_ARTEFACTS", Path.cwd() / "artefacts"))
        artefacts.mkdir(parents=True, exist_ok=True)
        shown = {}
        for page, url in (("cabinet", f"{prometheus}/consoles/vitrine-cabinet.html?cabinet=standin"),
                          ("fleet", f"{prometheus}/consoles/vitrine.html")):
            screenshot = artefacts / f"console-{page}.png"
            screenshot.unlink(missing_ok=True)
            dom = console_page.render(url, screenshot)
            self.assertNotIn("error executing template", dom)
            problems, figures = console_page.check_figures(prometheus, dom)
            self.assertEqual(problems, [], f"{page} page")
            self.assertEqual(console_page.png_size(screenshot), (1280, 1400))
            self.assertGreater(screenshot.stat().st_size, 10_000, "a screenshot of a page, not of nothing")
            shown[page] = ({q: float(v) for q, v, _ in figures.figures}, dom)
        figures, dom = shown["cabinet"]
        self.assertEqual(figures['max(vitrine_domain_up{cabinet="standin"}) or vector(0)'], 1)
        self.assertEqual(figures['max(vitrine_netmon_up{cabinet="standin"}) or vector(0)'], 1)
        self.assertGreaterEqual(figures['sum(vitrine_netmon_rule_hits_total{cabinet="standin",rule="default",action="deny"})'], 1)
        self.assertIn("<td>VitrinePolicyViolations</td>", dom)
        figures, dom = shown["fleet"]
        self.assertEqual(figures['max(vitrine_domain_up{cabinet="standin"})'], 1)
        self.assertIn('href="vitrine-cabinet.html?cabinet=standin"', dom)

    def test_a7_events_reach_the_siem_as_rfc5424(self):
        """hostd's and netmon's events arrive at rsyslog, parsed there as RFC 5424, each the same
        JSON its events file holds."""
        self.wait_hl7("boot=1")
        # A violation of netmon's: a hospital host tries the cabinet's SMB port.
        self.lab.hosp(["/usr/bin/python3", "-c", "import socket; s = socket.socket(); s.settimeout(2); "
                       f"s.connect_ex(('{GUEST_IP}', 445))"], check=False)

        def received(app, event):
            return [m for m in self.siem.messages() if m["app"] == app and m["msgid"] == event]
        denied = wait_for(lambda: received("vitrine-netmon", "flow_denied"), 30, "netmon's flow_denied in the SIEM")
        started = wait_for(lambda: received("vitrine-hostd", "guest_started"), 30, "hostd's guest_started in the SIEM")
        for m, severity in ((denied[-1], "4"), (started[0], "5")):
            self.assertEqual(m["version"], "1")
            self.assertEqual(m["facility"], "local3")
            self.assertEqual(m["severity"], severity)
            self.assertEqual(m["event"]["cabinet"], env.NAME)
            self.assertTrue(m["bom"])
        files = {"vitrine-hostd": self.state / f"{env.NAME}.hostd-events.jsonl",
                 "vitrine-netmon": self.state / f"{env.NAME}.events.jsonl"}
        for m in (denied[-1], started[0]):
            lines = [json.loads(l) for l in files[m["app"]].read_text().splitlines()]
            sent = m["event"]
            if m["app"] == "vitrine-netmon":
                sent = {k: v for k, v in sent.items() if k != "cabinet"}  # added on the way out
            self.assertIn(sent, lines, "the SIEM got what the events file holds")
        self.assertIn('vitrine_syslog_messages_total{outcome="sent"}',
                      self.fetch_text(f"http://127.0.0.1:{env.METRICS_PORT}/metrics"))
        self.assertGreater(metric(self.hostd_metrics(), "vitrine_syslog_messages_total", outcome="sent"), 0)

    def fetch_text(self, url):
        import urllib.request
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode()

    def test_b1_a_killed_qemu_is_restarted_with_its_disk_intact(self):
        os.kill(self.qemu_pid(), signal.SIGKILL)
        self.wait_hl7("boot=2")
        self.assertIn("restarting in", self.hostd_log())
        stops = [e for e in self.all_events() if e["event"] == "guest_stopped" and e["reason"] == "unrequested"]
        self.assertEqual(len(stops), 1, stops)
        self.assertEqual(metric(self.hostd_metrics(), "vitrine_domain_restarts_total"), 1)

    def test_b4_a_guest_that_reboots_itself_is_counted_not_restarted(self):
        before = self.boots()
        restarts = self.status()["guest"]["restarts"]
        conn = env.libvirt_connection()
        conn.lookupByName(env.NAME).reset(0)   # as a blue screen's automatic reboot does
        conn.close()
        self.wait_hl7(f"boot={before + 1}")
        wait_for(lambda: [e for e in self.all_events() if e["event"] == "guest_rebooted"], 30, "the reboot event")
        st = self.status()
        self.assertEqual(st["guest"]["reboots"], 1)
        self.assertEqual(st["guest"]["restarts"], restarts, "QEMU carried on: not a restart")
        wait_for(lambda: metric(self.hostd_metrics(), "vitrine_domain_reboots_total") == 1, 10,
                 "the reboot in the metrics")

    def test_b2_a_killed_hostd_leaves_the_cabinet_running_and_is_adopted(self):
        netmon = self.netmon_pid()
        self.lab.stop(self.hostd, signal.SIGKILL)
        self.send_barcode("RX-AFTER-HOSTD-DIED")   # guest and netmon carry on alone
        os.kill(netmon, 0)
        type(self).hostd = self.start_hostd()
        wait_for(lambda: "adopted running guest" in self.hostd_log(), 30, "the new hostd to adopt")
        self.assertIn(f"adopted netmon (pid {netmon})", self.hostd_log())
        self.send_barcode("RX-AFTER-ADOPTION")
        self.assertFalse([l for l in self.hl7.read_text().splitlines() if "boot=3" in l],
                         "adoption must not reboot the guest")

    def test_b3_a_killed_netmon_is_restarted(self):
        # Nothing but netmon joins the guest's tap to the uplink (no bridge, no address), so
        # without netmon the guest is cut off; test_inline.py's test_7 shows it with traffic.
        for ifname in (self.lab.guest_if, self.lab.uplink_if):
            link = json.loads(subprocess.run(["ip", "-j", "addr", "show", "dev", ifname], capture_output=True,
                                             text=True, check=True).stdout)[0]
            self.assertNotIn("master", link, ifname)
            self.assertFalse([a for a in link.get("addr_info", []) if a.get("family") == "inet"], ifname)
        old = self.netmon_pid()
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: self.netmon_pid() not in (None, old), 30, "hostd to restart netmon")
        exited = [e for e in self.all_events() if e["event"] == "netmon_exited"]
        self.assertEqual(exited[-1]["pid"], old)
        self.assertEqual(exited[-1]["status"], "gone")  # an adopted netmon: not hostd's child
        self.send_barcode("RX-AFTER-NETMON-RESTART")

    def test_b5_a_netmon_that_does_not_answer_is_stopped_before_another_starts(self):
        # A hung netmon (stopped here) still holds the tap: the next hostd cannot adopt it, and
        # must not start a second relay beside it.
        self.lab.stop(self.hostd, signal.SIGKILL)
        hung = self.netmon_pid()
        os.kill(hung, signal.SIGSTOP)
        type(self).hostd = self.start_hostd()
        wait_for(lambda: self.netmon_pid() not in (None, hung), 60, "a new netmon")
        self.assertIn(f"netmon (pid {hung}) holds", self.hostd_log())
        self.assertTrue(process_gone(hung), "gone before the new one took the lock")
        wait_for(lambda: "adopted running guest" in self.hostd_log(), 30, "the new hostd to adopt the guest")
        self.send_barcode("RX-AFTER-HUNG-NETMON")

    def test_c1_stop_shuts_the_guest_down_by_acpi_and_keeps_it_down(self):
        before = self.boots()
        r = json.loads(self.vitrine("stop").stdout)
        self.assertEqual(r["how"], "acpi", "the stand-in shuts down on the power button, as XP does")
        self.assertIn("ACPI power button", self.console())
        self.assertFalse(standin_running())
        st = self.status()
        self.assertEqual(st["guest"]["state"], "not running")
        self.assertTrue(st["guest"]["operator_stopped"])
        self.assertEqual(metric(self.hostd_metrics(), "vitrine_domain_operator_stopped"), 1)
        # hostd's loop has run since (the status above went through it): nothing was scheduled.
        after_stop = self.all_events()
        after_stop = after_stop[max(i for i, e in enumerate(after_stop) if e["event"] == "operator_stop"):]
        self.assertFalse([e for e in after_stop if e["event"] in ("guest_restart_scheduled", "guest_started")])
        self.vitrine("start")
        self.wait_hl7(f"boot={before + 1}")
        self.assertFalse(self.status()["guest"]["operator_stopped"])

    def test_c2_snapshots_stop_the_guest_only_when_told_to(self):
        self.wait_for_guest_running()
        r = self.vitrine("snapshot", "create", "before-update", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--stop-guest", r.stderr)
        self.assertEqual(self.vitrine("snapshot", "list").stdout, "")
        before = self.boots()
        r = json.loads(self.vitrine("snapshot", "create", "before-update", "--stop-guest").stdout)
        self.assertTrue(r["guest_restarted"])
        self.assertIn("before-update", self.vitrine("snapshot", "list").stdout)
        self.wait_hl7(f"boot={before + 1}")
        names = [e["event"] for e in self.all_events()]
        self.assertIn("snapshot_create", names)

    def test_c3_policy_reload_through_hostd(self):
        policy = self.tmp / "policy.yaml"
        original = policy.read_text()
        stricter = original.replace("    ports: [5000]\n    action: allow", "    ports: [5000]\n    action: deny")
        self.assertNotEqual(stricter, original)
        policy.write_text(stricter)
        self.assertTrue(self.status()["netmon"]["policy_file_changed_since_start"])
        r = json.loads(self.vitrine("policy", "reload").stdout)
        self.assertEqual(r["policy_sha256"], hashlib.sha256(stricter.encode()).hexdigest())
        self.assertEqual(r["usb_rules"], 1, "hostd reloaded the stand-in's USB rule too")
        st = self.status()["netmon"]
        self.assertEqual(st["policy_sha256"], r["policy_sha256"])
        self.assertFalse(st["policy_file_changed_since_start"])
        # The console's heartbeat (every 10 s) is now denied.
        wait_for(lambda: [e for e in self.all_events() if e["event"] == "flow_denied" and e.get("dport") == 5000],
                 60, "a denied heartbeat")
        policy.write_text(stricter.replace("action: deny", "action: dney", 1))
        bad = self.vitrine("policy", "reload", check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("refused, the running policy stays in force", bad.stderr)
        self.assertIn("expected one of allow, deny, alert, got 'dney'", bad.stderr)
        self.assertEqual(self.status()["netmon"]["policy_sha256"], r["policy_sha256"])
        # A USB rule USBGuard's parser refuses: the whole policy is refused, netmon's included.
        misspelt = stricter.replace("- 'allow id 05e0:1200", "- 'alow id 05e0:1200")
        self.assertNotEqual(misspelt, stricter)
        policy.write_text(misspelt)
        bad = self.vitrine("policy", "reload", check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("a rule starts with allow, block or reject, not 'alow'", bad.stderr)
        self.assertEqual(self.status()["netmon"]["policy_sha256"], r["policy_sha256"])
        policy.write_text(original)
        self.vitrine("policy", "reload")
        self.assertEqual(self.status()["netmon"]["policy_sha256"], hashlib.sha256(original.encode()).hexdigest())

    def test_d_a_guest_that_keeps_stopping_is_a_crash_loop(self):
        self.wait_for_guest_running()
        conn = env.libvirt_connection()
        first = len(self.all_events())
        destroyed = 0

        def crash_loop_declared():
            nonlocal destroyed
            events = self.all_events()[first:]
            started = 1 + len([e for e in events if e["event"] == "guest_started"])
            # Kill each guest hostd has finished starting (killing one mid-start is a failed
            # start, which counts too, but this test counts guests).
            if started > destroyed:
                try:
                    conn.lookupByName(env.NAME).destroy()
                    destroyed += 1
                except libvirt.libvirtError:
                    pass
            return [e for e in events if e["event"] == "crash_loop"]
        # Back-offs of 1+2+4+8+16 s, then the sixth stop is a crash loop.
        wait_for(crash_loop_declared, 120, "a crash loop", interval=0.2)
        self.assertEqual(destroyed, 1 + 5, self.all_events()[first:])
        self.assertFalse([e for e in self.all_events()[first:] if e["event"] == "guest_start_failed"])
        st = self.status()
        self.assertFalse(standin_running())
        self.assertNotIn("restart_in_seconds", st["guest"])
        self.assertIn("crash loop", st["guest"]["supervision"])
        self.assertEqual(metric(self.hostd_metrics(), "vitrine_domain_crash_loop"), 1)
        loops = [e for e in self.all_events() if e["event"] == "crash_loop"]
        self.assertEqual(len(loops), 1, loops)
        self.assertIn("crash loop", self.vitrine("status").stdout)
        # An operator's start clears it.
        before = self.boots()
        self.assertTrue(json.loads(self.vitrine("start").stdout)["cleared_crash_loop"])
        self.wait_hl7(f"boot={before + 1}")
        self.assertEqual(metric(self.hostd_metrics(), "vitrine_domain_crash_loop"), 0)
        conn.close()

    def wait_for_guest_running(self):
        wait_for(lambda: self.status()["guest"]["state"] == "running", 60, "the guest to run")

    def test_e_sigterm_stops_the_guest_and_netmon(self):
        netmon = self.netmon_pid()
        self.lab.stop(self.hostd, signal.SIGTERM)
        self.assertFalse(self.domain_exists())
        with self.assertRaises(ProcessLookupError):
            os.kill(netmon, 0)
        self.assertIsNone(self.netmon_pid(), "no netmon holds the cabinet's lock")
        self.assertFalse(self.socket.exists())
        events = [json.loads(l) for l in (self.state / f"{env.NAME}.hostd-events.jsonl").read_text().splitlines()]
        self.assertEqual(events[-1]["event"], "hostd_stopped")
        # Every event of the whole run, hostd's and netmon's, is one the schema documents.
        seen, problems = check_events.validate_files(env.ROOT, [self.state / f"{env.NAME}.hostd-events.jsonl",
                                                                self.state / f"{env.NAME}.events.jsonl"])
        self.assertEqual(problems, [])
        for event in ("hostd_started", "netmon_started", "guest_started", "netmon_exited", "crash_loop",
                      "operator_stop", "snapshot_create", "policy_reload_refused", "flow_denied",
                      "serial_line_dropped"):
            self.assertIn(event, seen)
        # hostd_stopped, its last, reached the SIEM before it exited.
        self.assertIn("hostd_stopped", [m["msgid"] for m in self.siem.messages() if m["app"] == "vitrine-hostd"])
        # A dozen boots of a guest writing its disk, a snapshot, restarts and kills: the golden
        # base is still what was imported.
        r = subprocess.run([env.VITRINE, "image", "verify", "--store", str(self.tmp / "store")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("matches the manifest", r.stdout)


if __name__ == "__main__":
    require_root()
    HOSTD = sys.argv.pop(1)
    env.NETMON, env.VITRINE, env.GUEST = sys.argv.pop(1), sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(verbosity=2)
