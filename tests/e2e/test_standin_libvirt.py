#!/usr/bin/python3
"""The stand-in cabinet as libvirt runs it: the domain XML that `vitrine cabinet domain-xml`
generates from a cabinet description (XP profile, IDE overlay disk from an image store, the
NIC as an unmanaged tap behind netmon, COM1 to a file, COM2 on a unix socket) boots under a
root libvirtd (started here if it is not running) with QEMU under TCG.

Usage: test_standin_libvirt.py NETMON_BINARY VITRINE_BINARY GUEST_DIR UMOCKDEV_WRAPPER USB_E2E_BINARY   (as root)

USB passthrough into that guest: the cabinet's recorded USB devices are plugged into umockdev's
fake sysfs (no USB bus here), passthrough judges them by the stand-in policy's usb rules, and
hostd's libvirt attach and detach run live against this domain; the guest's own USB stack
reports what arrives and leaves on COM1 (tests/e2e/usb_passthrough_e2e.cpp).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tempfile
import unittest
from pathlib import Path

import libvirt

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from vitrine_lab import Lab, require_root, run, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from hospital import start_hospital  # noqa: E402
import standin  # noqa: E402

NETMON = VITRINE = GUEST = UMOCKDEV_WRAPPER = USB_E2E = None
DEVICES = ROOT / "tests" / "passthrough" / "devices"
# What QEMU presents for an allowed device here: its emulated USB keyboard (usb_passthrough_e2e.cpp).
EMULATED = "0627:0001"
POLICY = standin.POLICY
METRICS_PORT = port("e2e.standin_libvirt.netmon")
HOSTD_METRICS_PORT = port("e2e.standin_libvirt.hostd")
BOOT_TIMEOUT_S = 120
NAME = "vitrine-e2e-standin"


def libvirt_connection():
    """A connection to a root libvirtd, started if it is not running."""
    standin.ensure_libvirtd()
    libvirt.registerErrorHandler(lambda *_: None, None)  # errors are raised, not printed
    return libvirt.open("qemu:///system")


class StandinOnLibvirt(unittest.TestCase):
    @classmethod
    def setUpClass(cls, start_netmon=True, com3_device=None):
        cls.conn = libvirt_connection()
        cls.cleanup_domain()
        cls.tmp = Path(tempfile.mkdtemp(prefix="vitrine-e2e-", dir="/var/tmp"))
        cls.lab = Lab("vtv", guest_tap=True).create()
        lab = cls.lab
        cls.cabinet, cls.com1, cls.com2 = standin.prepare(
            cls.tmp, VITRINE, GUEST, NAME, lab.guest_if, lab.uplink_if,
            f"127.0.0.1:{HOSTD_METRICS_PORT}", f"127.0.0.1:{METRICS_PORT}", com3_device=com3_device)
        cabinet = cls.cabinet
        cls.xml = run([VITRINE, "cabinet", "domain-xml", str(cabinet)]).stdout
        cls.hl7 = start_hospital(lab, cls.tmp)
        cls.events = cls.tmp / "events.jsonl"
        if start_netmon:
            lab.start_netmon(NETMON, POLICY, cls.events, METRICS_PORT)

    @classmethod
    def cleanup_domain(cls):
        try:
            dom = cls.conn.lookupByName(NAME)
        except libvirt.libvirtError:
            return
        persistent = dom.isPersistent()  # ask first: a transient domain vanishes on destroy
        if dom.isActive():
            dom.destroy()
        if persistent:
            dom.undefine()

    @classmethod
    def tearDownClass(cls):
        cls.cleanup_domain()
        cls.conn.close()
        cls.lab.destroy()
        if os.environ.get("VITRINE_KEEP_TMP") is None:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def start_guest(self):
        return self.conn.createXML(self.xml, 0)  # transient: this test is its supervisor

    def qemu_pid(self):
        return int(Path(f"/run/libvirt/qemu/{NAME}.pid").read_text())

    def wait_hl7(self, needle):
        return wait_for(lambda: [l for l in self.hl7.read_text().splitlines() if needle in l],
                        BOOT_TIMEOUT_S, f"an HL7 message with {needle!r}", interval=0.5)

    def console(self):
        return self.com1.read_text(errors="replace") if self.com1.exists() else ""

    def test_1_boots_under_libvirt_and_its_hl7_reaches_the_pharmacy(self):
        dom = self.start_guest()
        self.assertTrue(dom.isActive())
        self.assertIn("ADT^A08", self.wait_hl7("boot=1")[0])
        wait_for(lambda: "forbidden connection" in self.console(), BOOT_TIMEOUT_S, "the forbidden try")
        self.assertIn("refused", self.console())
        events = [json.loads(l) for l in self.events.read_text().splitlines()]
        self.assertTrue([e for e in events if e["event"] == "flow_denied" and e.get("dport") == 445])

    def test_2_a_barcode_on_com2_arrives_as_an_hl7_message(self):
        arrived, scans = standin.scan_barcode(self.com2, self.hl7, "RX-7-INSULIN")
        self.assertTrue(arrived, f"not after {scans} scans")
        self.assertIn("RDS^O13", self.wait_hl7("barcode=RX-7-INSULIN")[0])

    def test_3_the_disk_counter_survives_qemu_being_killed(self):
        pid = self.qemu_pid()
        os.kill(pid, signal.SIGKILL)
        # A transient domain is gone from libvirt once its QEMU is.
        wait_for(lambda: not self.domain_exists(), 30, "libvirt to see QEMU gone")
        self.start_guest()
        self.wait_hl7("boot=2")

    def test_4_usb_devices_reach_the_guest_only_by_policy(self):
        if not self.domain_exists():
            self.start_guest()
        wait_for(lambda: "ADT^A08" in self.console(), BOOT_TIMEOUT_S, "the guest's boot message")
        usb = subprocess.Popen([UMOCKDEV_WRAPPER, USB_E2E, "qemu:///system", NAME, str(DEVICES), str(POLICY)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(usb.kill)

        def command(text):
            """Sends one command; returns its events and its done line (the harness waits at most 5 s)."""
            usb.stdin.write(text + "\n")
            usb.stdin.flush()
            events = []
            while True:
                line = usb.stdout.readline()
                self.assertTrue(line, f"the USB harness ended during {text!r}")
                record = json.loads(line)
                if "done" in record:
                    self.assertTrue(record["ok"], text)
                    return [e["event"] for e in events], events, record
                events.append(record)

        def guest_saw(what, count=1):
            return wait_for(lambda: self.console().count(f"usb {what} {EMULATED}") >= count, 30,
                            f"the guest to report usb {what} (#{count})", interval=0.1)

        kinds, events, _ = command("plug barcode-scanner")
        self.assertEqual(kinds, ["usb_allowed", "usb_attached"])
        self.assertEqual(events[0]["rule"], "scanner")
        guest_saw("add")

        kinds, events, _ = command("plug usb-stick")
        self.assertEqual(kinds, ["usb_blocked"])
        self.assertEqual(events[0]["rule"], "default")

        kinds, _, _ = command("unplug barcode-scanner")
        self.assertEqual(kinds, ["usb_detached", "usb_removed"])
        guest_saw("remove")

        start = time.monotonic()
        kinds, _, done = command("plug barcode-scanner")
        self.assertEqual(kinds, ["usb_allowed", "usb_attached"])
        guest_saw("add", 2)
        print(f"re-plugged scanner: attached {done['ms']:.0f} ms after its uevent, "
              f"reported by the guest {1000 * (time.monotonic() - start):.0f} ms after the plug", flush=True)
        # Only the allowed device ever reached the guest: the stick never did.
        arrivals = {line.split()[3] for line in self.console().splitlines() if "standin: usb add" in line}
        self.assertEqual(arrivals, {EMULATED})

        # A guest started again has none of its devices until passthrough attaches them (hostd
        # does this on libvirt's "started" event).
        self.conn.lookupByName(NAME).destroy()
        wait_for(lambda: not self.domain_exists(), 30, "the domain to go")
        self.start_guest()
        wait_for(lambda: "ADT^A08" in self.console(), BOOT_TIMEOUT_S, "the guest's boot message")
        self.assertNotIn(f"usb add {EMULATED}", self.console())
        kinds, _, _ = command("guest_started")
        self.assertEqual(kinds, ["usb_attached"])
        guest_saw("add")
        usb.stdin.write("quit\n")
        usb.stdin.flush()
        self.assertEqual(usb.wait(timeout=10), 0)

    def domain_exists(self):
        try:
            self.conn.lookupByName(NAME)
            return True
        except libvirt.libvirtError:
            return False


if __name__ == "__main__":
    require_root()
    NETMON, VITRINE, GUEST = sys.argv.pop(1), sys.argv.pop(1), sys.argv.pop(1)
    UMOCKDEV_WRAPPER, USB_E2E = sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(verbosity=2)
