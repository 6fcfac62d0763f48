#!/usr/bin/python3
"""netmon as hostd runs it, with live traffic between two network namespaces: its own system user
with every capability set empty, no_new_privs and its seccomp allowlist, and still relaying; its
control socket answering `ready` (the listening pid as the kernel names it), `status` (the
counters of what crossed) and `reload` (the policy's bytes: their sha256 in force, an open
connection the new policy denies cut, a broken policy refused at file:line:column); its lock,
which a second netmon for the same cabinet cannot take; and its end when an interface it relays
on is made again under its name.

Usage: test_control.py NETMON_BINARY [ring|pcap]   (as root)
"""
import hashlib
import json
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, Lab, require_root, run, take_packet_io, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402

NETMON = None
PACKET_IO = "ring"
METRICS_PORT = port("integration.control")
SYSLOG_PORT = port("integration.control.syslog")
ECHO_PORT = 9095
USER = "vitrine-netmon"

POLICY = """apiVersion: vitrine/v1
name: {name}
guest: {{mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}}
defaultAction: deny
rules:
  - name: echo
    direction: egress
    transport: tcp
    ports: [{port}]
    action: {action}
"""


def ask(path, request, timeout=20):
    """One request on a control socket: (answer, the listening pid from SO_PEERCRED)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        pid, _, _ = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        s.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data), pid


def proc_status(pid):
    return dict(l.split(":", 1) for l in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in l)


class ControlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="vitrine-control-"))
        cls.lab = Lab("vtc").create()
        cls.lab.spawn(["socat", f"TCP-LISTEN:{ECHO_PORT},bind={HOSP_IP},reuseaddr,fork", "EXEC:cat"],
                      ns=cls.lab.hosp_ns)
        wait_for(lambda: HOSP_IP in cls.lab.hosp(["ss", "-ltn"]).stdout, 10, "the echo server")
        cls.policy = cls.tmp / "policy.yaml"
        cls.policy.write_text(POLICY.format(name="first", port=ECHO_PORT, action="allow"))
        cls.control = cls.tmp / "netmon-control"
        cls.lock = cls.tmp / "netmon.lock"
        # The SIEM, named by a host name that netmon resolves inside its sandbox.
        cls.siem = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.siem.bind(("127.0.0.1", SYSLOG_PORT))
        cls.netmon = cls.start_netmon()
        # `ready` is answered only once netmon relays: asked straight away, it waits for that.
        cls.ready, cls.peer = wait_for(lambda: cls.try_ask({"command": "ready"}), 30, "netmon's ready")

    @classmethod
    def start_netmon(cls):
        return cls.lab.spawn([NETMON, "--guest", cls.lab.guest_if, "--uplink", cls.lab.uplink_if,
                              "--policy", str(cls.policy), "--events", str(cls.tmp / "events.jsonl"),
                              "--metrics", f"127.0.0.1:{METRICS_PORT}", "--packet-io", PACKET_IO,
                              "--control", str(cls.control), "--lock", str(cls.lock), "--user", USER,
                              "--syslog", f"udp://localhost:{SYSLOG_PORT}"])

    @classmethod
    def try_ask(cls, request):
        if cls.netmon.poll() is not None:
            raise RuntimeError(f"netmon exited with {cls.netmon.returncode}: {cls.netmon.stderr.read()}")
        try:
            return ask(cls.control, request)
        except OSError:
            return None

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()
        cls.siem.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def echo(self, payload="hello"):
        code = ("import socket\ns=socket.create_connection(('%s',%d),timeout=5)\n"
                "s.sendall(b'%s\\n'); print(s.recv(100).decode().strip())\n" % (HOSP_IP, ECHO_PORT, payload))
        return self.lab.guest(["python3", "-c", code], check=False).stdout.strip()

    def test_ready_names_the_process_that_relays_and_the_policy_it_enforces(self):
        self.assertTrue(self.ready["ready"])
        self.assertEqual(self.peer, self.netmon.pid)
        self.assertEqual(self.ready["pid"], self.netmon.pid)
        self.assertEqual(self.ready["policy"]["sha256"], hashlib.sha256(self.policy.read_bytes()).hexdigest())

    def test_it_runs_with_nothing_and_still_relays(self):
        status = proc_status(self.netmon.pid)
        user = pwd.getpwnam(USER)
        self.assertEqual(status["Uid"].split(), [str(user.pw_uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(user.pw_gid)] * 4)
        for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(status[caps], 16), 0, caps)
        self.assertEqual(status["NoNewPrivs"].strip(), "1")
        self.assertEqual(status["Seccomp"].strip(), "2")
        self.assertEqual(self.echo("sandboxed"), "sandboxed")
        answer, _ = ask(self.control, {"command": "status"})
        self.assertGreater(answer["counters"]["packets"]["allow"], 0, answer)

    def test_events_reach_a_siem_named_by_a_host_name(self):
        # Resolving "localhost" inside the sandbox (glibc asks for a Unix and a netlink socket,
        # which are refused, and carries on): the event is forwarded and netmon lives on.
        self.assertNotEqual(self.echo_denied_port(), "connected")
        self.siem.settimeout(10)
        message = self.siem.recv(65536).decode(errors="replace")
        self.assertIn("vitrine-netmon", message)
        self.assertIsNone(self.netmon.poll(), "netmon lives on")

    def echo_denied_port(self):
        code = ("import socket\ns=socket.socket(); s.settimeout(5)\n"
                "try:\n s.connect(('%s',%d)); print('connected')\n"
                "except Exception as e: print(type(e).__name__)\n" % (HOSP_IP, ECHO_PORT + 1))
        return self.lab.guest(["python3", "-c", code], check=False).stdout.strip()

    def test_an_interface_made_again_under_its_name_ends_netmon_for_a_new_one(self):
        # Its sockets stay on the old interface, which relays nothing: netmon says so and ends
        # (within a second or two), for hostd to start one on the new interface.
        lab = Lab("vtk").create()
        try:
            netmon = lab.spawn([NETMON, "--guest", lab.guest_if, "--uplink", lab.uplink_if, "--policy", str(self.policy),
                                "--events", str(self.tmp / "second.jsonl"), "--metrics",
                                f"127.0.0.1:{port('integration.control.second')}"])
            lab.wait_metrics(port("integration.control.second"), netmon)
            # In one breath, so that netmon finds the name there again when it looks.
            run(["sh", "-c", f"ip link del {lab.uplink_if} && ip link add {lab.uplink_if} type veth peer name vtk-x"])
            wait_for(lambda: netmon.poll() is not None, 10, "netmon to end")
            self.assertEqual(netmon.returncode, 1)
            # Seen as it went (the sockets' error), or as another one under its name (the check
            # once a second): either way, not "still relaying".
            self.assertRegex(netmon.stderr.read(), f"interface {lab.uplink_if} (is gone|was made again)")
        finally:
            lab.destroy()

    def test_a_second_netmon_for_the_cabinet_refuses_to_start(self):
        second = subprocess.run([NETMON, "--guest", self.lab.guest_if, "--uplink", self.lab.uplink_if,
                                 "--policy", str(self.policy), "--events", str(self.tmp / "second.jsonl"),
                                 "--metrics", f"127.0.0.1:{METRICS_PORT + 1}", "--lock", str(self.lock)],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(second.returncode, 2, second.stderr)
        self.assertIn(f"held by pid {self.netmon.pid}", second.stderr)

    def test_reload_by_bytes_cuts_what_the_new_policy_denies_and_refuses_a_broken_one(self):
        holder = self.lab.spawn(["ip", "netns", "exec", self.lab.guest_ns, "python3", "-c",
                                 "import socket,sys\ns=socket.create_connection(('%s',%d),timeout=5)\n"
                                 "s.sendall(b'x\\n'); s.recv(10); print('open', flush=True)\n"
                                 "try: print('closed' if not s.recv(10) else 'data', flush=True)\n"
                                 "except OSError: print('closed', flush=True)\n" % (HOSP_IP, ECHO_PORT)],
                                stdout=subprocess.PIPE)
        self.assertEqual(holder.stdout.readline().strip(), "open")
        denying = POLICY.format(name="second", port=ECHO_PORT, action="deny")
        answer, _ = ask(self.control, {"command": "reload", "policy_text": denying, "source": "denying.yaml"})
        self.assertTrue(answer["ok"], answer)
        self.assertEqual(answer["policy_sha256"], hashlib.sha256(denying.encode()).hexdigest())
        self.assertGreaterEqual(answer["flows_cut"], 1)
        self.assertEqual(holder.stdout.readline().strip(), "closed")  # the reset reached it
        self.assertNotEqual(self.echo(), "hello")
        broken = denying.replace("action: deny", "action: dney")
        answer, _ = ask(self.control, {"command": "reload", "policy_text": broken, "source": "broken.yaml"})
        self.assertFalse(answer["ok"])
        self.assertIn("broken.yaml:", answer["error"])
        self.assertEqual(answer["line"], 10)
        status, _ = ask(self.control, {"command": "status"})
        self.assertEqual(status["policy"]["sha256"], hashlib.sha256(denying.encode()).hexdigest())
        allowing = POLICY.format(name="third", port=ECHO_PORT, action="allow")
        self.assertTrue(ask(self.control, {"command": "reload", "policy_text": allowing})[0]["ok"])
        self.assertEqual(self.echo("again"), "again")


if __name__ == "__main__":
    require_root()
    NETMON = sys.argv.pop(1)
    PACKET_IO = take_packet_io(sys.argv)
    unittest.main(verbosity=2)
