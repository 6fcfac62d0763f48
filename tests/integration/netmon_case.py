"""What the integration tests of netmon share: a lab (deploy/lib/vitrine_lab.py: a guest and a
hospital namespace, netmon between them) made for a test class, the servers the class starts
in it, netmon started on it with the class's policy, and everything removed when the class is
done, also when its set-up failed half-way.

A test file names its lab, policy and metrics port, starts its servers in `serve`, and ends
with `main()`, which takes netmon's binary and packet I/O back end from the command line:
    class HL7Test(NetmonCase):
        LAB, POLICY, METRICS_PORT = "vth", HERE / "policy-hl7.yaml", port("integration.hl7")
        @classmethod
        def serve(cls): ...
"""
import json
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import Lab, metric, require_root, take_packet_io, wait_for  # noqa: E402


class NetmonCase(unittest.TestCase):
    LAB = None           # the lab's prefix: its namespaces' and interfaces' names, one per file
    POLICY = None        # the policy netmon starts with
    METRICS_PORT = None  # from deploy/lib/lab_ports.py
    binary = None        # vitrine-netmon, from the command line
    packet_io = "ring"

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix=f"vitrine-{cls.LAB}-"))
        cls.open_files = []
        cls.lab = None
        cls.addClassCleanup(cls.clean_up)
        cls.lab = Lab(cls.LAB).create()
        cls.serve()
        cls.events = cls.tmp / "events.jsonl"
        cls.netmon = cls.start_netmon()

    @classmethod
    def serve(cls):
        """The class's servers and files, in the lab, before netmon starts."""

    @classmethod
    def start_netmon(cls, policy=None):
        return cls.lab.start_netmon(cls.binary, policy or cls.POLICY, cls.events, cls.METRICS_PORT, cls.packet_io)

    @classmethod
    def clean_up(cls):
        if cls.lab is not None:
            cls.lab.destroy()
        for f in cls.open_files:
            f.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def log_file(cls, name):
        """A file in the class's directory that a server writes to: (its path, it open for writing)."""
        f = open(cls.tmp / name, "w")
        cls.open_files.append(f)
        return cls.tmp / name, f

    @classmethod
    def wait_listening(cls, run_in_ns, port, what, udp=False, timeout=10):
        """Until something in the namespace `run_in_ns` runs in (lab.hosp, lab.guest) listens on `port`."""
        wait_for(lambda: f":{port} " in run_in_ns(["ss", "-lun" if udp else "-ltn"]).stdout, timeout, what)

    def recorded(self, event=None):
        """netmon's events so far, or those named `event`."""
        events = [json.loads(line) for line in self.events.read_text().splitlines()]
        return events if event is None else [e for e in events if e["event"] == event]

    def metric(self, name, **labels):
        return metric(self.lab.scrape(self.METRICS_PORT), name, **labels)


def main():
    """Usage: test_X.py NETMON_BINARY [ring|pcap]   (as root)"""
    require_root()
    NetmonCase.binary = sys.argv.pop(1)
    NetmonCase.packet_io = take_packet_io(sys.argv)
    unittest.main(verbosity=2)
