"""A stand-in guest and a stand-in hospital network in network namespaces, joined only through
netmon: the topology of the demo, the integration tests and the benchmarks.

    [ns GUEST] eth0 ─ veth ─ P-g  (root ns)  netmon  P-u ─ veth ─ eth0 [ns HOSP]
     10.77.0.2                    no address, no bridge          10.77.0.1

Nothing routes or bridges P-g to P-u, so the only path between the namespaces is netmon. For
comparison, bridge() joins the same two interfaces with a kernel bridge instead.
Everything is created with a name prefix and removed by destroy(), even after a failure.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

GUEST_IP, HOSP_IP = "10.77.0.2", "10.77.0.1"
GUEST_MAC, HOSP_MAC = "52:54:00:77:00:02", "52:54:00:77:00:01"


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kw)


def wait_for(predicate, timeout, what, interval=0.05):
    """Polls `predicate` until it returns a true value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(interval)


def require_root(what="these tests"):
    if os.geteuid() != 0:
        print(f"{what} need root (network namespaces, taps)")
        sys.exit(1)


def take_packet_io(argv):
    """Removes netmon's packet I/O back end (ring or pcap) from argv if given; ring otherwise."""
    if len(argv) > 1 and argv[1] in ("ring", "pcap"):
        return argv.pop(1)
    return "ring"


def parse_metrics(text):
    """Prometheus text format to {(name, frozenset(labels)): value}."""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$", line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        series[(m.group(1), labels)] = float(m.group(3))
    return series


def metric(series, name, **labels):
    """Sum of the series called `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, l), v in series.items() if n == name and want <= set(l))


class Lab:
    def __init__(self, prefix="vtr", guest_tap=False):
        """guest_tap: the guest side is a tap for a QEMU guest instead of a namespace."""
        assert len(prefix) <= 8, "interface names must stay under 16 characters"
        self.prefix = prefix
        self.guest_ns, self.hosp_ns = f"{prefix}-guest", f"{prefix}-hosp"
        self.guest_if, self.uplink_if = f"{prefix}-g", f"{prefix}-u"
        self.bridge_if = f"{prefix}-br"
        self.guest_tap = guest_tap
        self.processes = []

    # --- set-up and tear-down ------------------------------------------------------------
    def create(self):
        self.destroy()  # leftovers of an interrupted run
        for ns in (self.hosp_ns,) if self.guest_tap else (self.guest_ns, self.hosp_ns):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        sides = [(self.hosp_ns, self.uplink_if, HOSP_MAC, HOSP_IP)]
        if self.guest_tap:
            # QEMU attaches to this tap; the guest's own kernel drives the other end.
            run(["ip", "tuntap", "add", "dev", self.guest_if, "mode", "tap"])
            run(["sysctl", "-qw", f"net.ipv6.conf.{self.guest_if}.disable_ipv6=1"])
            run(["ip", "link", "set", self.guest_if, "up"])
        else:
            sides.insert(0, (self.guest_ns, self.guest_if, GUEST_MAC, GUEST_IP))
        for ns, outer, mac, addr in sides:
            run(["ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns])
            run(["ip", "-n", ns, "link", "set", "eth0", "address", mac])
            run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            run(["sysctl", "-qw", f"net.ipv6.conf.{outer}.disable_ipv6=1"])
            run(["ip", "link", "set", outer, "up"])
            # A frame relayed in user space must be a real frame: no checksum left to the NIC,
            # no segmentation offload sending 64 KiB "frames", no receive coalescing.
            self.in_ns(ns, ["ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off",
                            "gro", "off"])
            run(["ethtool", "-K", outer, "tx", "off", "tso", "off", "gso", "off", "gro", "off"])
        return self

    def destroy(self):
        for p in reversed(self.processes):
            self.stop(p)
        self.processes.clear()
        for ns in (self.guest_ns, self.hosp_ns):
            pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run(["ip", "netns", "del", ns], check=False)
        for ifname in (self.guest_if, self.uplink_if, self.bridge_if):
            run(["ip", "link", "del", ifname], check=False)

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.destroy()

    # --- processes -----------------------------------------------------------------------
    def in_ns(self, ns, cmd, check=True, **kw):
        return run(["ip", "netns", "exec", ns] + cmd, check=check, **kw)

    def guest(self, cmd, check=True, **kw):
        return self.in_ns(self.guest_ns, cmd, check=check, **kw)

    def hosp(self, cmd, check=True, **kw):
        return self.in_ns(self.hosp_ns, cmd, check=check, **kw)

    def spawn(self, cmd, ns=None, **kw):
        full = (["ip", "netns", "exec", ns] if ns else []) + cmd
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(full, text=True, **kw)
        self.processes.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for stream in (p.stdin, p.stdout, p.stderr):
            if stream:
                stream.close()
        if p in self.processes:
            self.processes.remove(p)

    # --- the bump in the wire ------------------------------------------------------------
    def start_netmon(self, binary, policy, events, metrics_port, packet_io="ring"):
        p = self.spawn([binary, "--guest", self.guest_if, "--uplink", self.uplink_if,
                        "--policy", str(policy), "--events", str(events),
                        "--metrics", f"127.0.0.1:{metrics_port}", "--packet-io", packet_io])
        self.wait_metrics(metrics_port, p)
        return p

    def wait_metrics(self, port, process, timeout=15):
        def ready():
            if process.poll() is not None:
                raise RuntimeError(f"netmon exited with {process.returncode}: {process.stderr.read()}")
            try:
                return self.scrape(port)
            except OSError:
                return None
        return wait_for(ready, timeout, f"netmon's metrics on port {port}")

    @staticmethod
    def scrape(port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return parse_metrics(r.read().decode())

    def bridge(self):
        """Joins the two sides with a kernel bridge instead of netmon (the benchmark reference)."""
        run(["ip", "link", "add", self.bridge_if, "type", "bridge"])
        run(["sysctl", "-qw", f"net.ipv6.conf.{self.bridge_if}.disable_ipv6=1"])
        for ifname in (self.guest_if, self.uplink_if):
            run(["ip", "link", "set", ifname, "master", self.bridge_if])
        run(["ip", "link", "set", self.bridge_if, "up"])

    def unbridge(self):
        run(["ip", "link", "del", self.bridge_if], check=False)

    # --- what crossed --------------------------------------------------------------------
    def capture(self, ns, bpf, path):
        """Starts tcpdump in `ns` writing to `path`; returns once it is capturing."""
        # --immediate-mode: without it, frames wait in the kernel ring for up to a second and
        # are lost if tcpdump is stopped before then.
        p = self.spawn(["tcpdump", "--immediate-mode", "-U", "-n", "-i", "eth0", "-w", str(path),
                        bpf], ns=ns)
        # tcpdump says "listening on" once its capture is open; reading stderr blocks
        # until then, so nothing sent afterwards can be missed.
        line = p.stderr.readline()
        if "listening" not in line:
            raise RuntimeError(f"tcpdump did not start: {line}")
        return p

    @staticmethod
    def count_packets(path, bpf=""):
        out = run(["tcpdump", "-n", "-r", str(path)] + ([bpf] if bpf else []), check=False)
        return len([l for l in out.stdout.splitlines() if l.strip()])
