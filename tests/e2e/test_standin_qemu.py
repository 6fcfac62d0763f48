#!/usr/bin/python3
"""The stand-in cabinet on the XP hardware profile (i440fx, IDE disk, rtl8139, UHCI/EHCI, COM
ports), booted by QEMU under TCG with its NIC on a tap behind netmon: its HL7 reaches the
pharmacy, its forbidden connection is refused, a barcode on COM2 becomes an HL7 message, and
its disk counter survives QEMU being killed.

Usage: test_standin_qemu.py NETMON_BINARY GUEST_DIR   (as root; GUEST_DIR from build_testguest.py)
"""
import json
import shutil
import signal
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from vitrine_lab import GUEST_MAC, Lab, metric, wait_for, require_root  # noqa: E402
from lab_ports import port  # noqa: E402
from hospital import start_hospital  # noqa: E402
import standin  # noqa: E402

NETMON = GUEST = None
POLICY = ROOT / "policies" / "shipped" / "standin-cabinet.yaml"
METRICS_PORT = port("e2e.standin_qemu.netmon")
# TCG boots the stand-in in about 10 s here; a loaded CI machine may take several times that.
BOOT_TIMEOUT_S = 120


class StandinOnQemu(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="vitrine-e2e-"))
        cls.lab = Lab("vte", guest_tap=True).create()
        lab = cls.lab
        cls.hl7 = start_hospital(lab, cls.tmp)
        cls.events = cls.tmp / "events.jsonl"
        lab.start_netmon(NETMON, POLICY, cls.events, METRICS_PORT)
        cls.disk = cls.tmp / "disk.raw"
        shutil.copy(Path(GUEST) / "disk.raw", cls.disk)
        cls.com1 = cls.tmp / "com1.log"
        cls.com2 = cls.tmp / "com2.sock"
        cls.qemu = None
        # Booted once for all the tests, each of which finds it running whatever ran before it.
        cls.boot()

    @classmethod
    def tearDownClass(cls):
        cls.lab.destroy()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def boot(cls):
        """Starts QEMU with the XP profile (the stand-in's one override: a 64-bit CPU)."""
        cls.com1.unlink(missing_ok=True)
        cmdline = ("console=ttyS0 panic=-1 quiet ipv6.disable=1 vitrine.pharmacy=10.77.0.1:2575 "
                   "vitrine.console=10.77.0.1:5000 vitrine.forbidden=10.77.0.1:445 "
                   "vitrine.lookup=pharmacy.hospital.local")
        cls.qemu = cls.lab.spawn([
            "qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-cpu", "qemu64", "-m", "256",
            "-smp", "1", "-nographic", "-no-reboot", "-rtc", "base=localtime,driftfix=slew",
            "-kernel", str(Path(GUEST) / "vmlinuz"), "-initrd", str(Path(GUEST) / "initrd.img"),
            "-append", cmdline,
            "-drive", f"file={cls.disk},if=ide,format=raw,cache=none",
            "-netdev", f"tap,id=n0,ifname={cls.lab.guest_if},script=no,downscript=no,vnet_hdr=off",
            "-device", f"rtl8139,netdev=n0,mac={GUEST_MAC}",
            "-device", "ich9-usb-ehci1,id=usb", "-device", "ich9-usb-uhci1,masterbus=usb.0,firstport=0",
            "-vga", "cirrus", "-display", "none", "-monitor", "none",
            "-serial", f"file:{cls.com1}", "-serial", f"unix:{cls.com2},server=on,wait=off"])

    def hl7_lines(self):
        return self.hl7.read_text().splitlines()

    def wait_hl7(self, needle):
        return wait_for(lambda: [l for l in self.hl7_lines() if needle in l], BOOT_TIMEOUT_S,
                        f"an HL7 message with {needle!r}", interval=0.5)

    def console(self):
        return self.com1.read_text(errors="replace") if self.com1.exists() else ""

    def test_1_boots_and_its_hl7_reaches_the_pharmacy(self):
        lines = self.wait_hl7("boot=1")
        self.assertIn("ADT^A08", lines[0])
        self.assertIn("boot counter 1", self.console())
        self.assertIn("resolved pharmacy.hospital.local", self.console(), self.events.read_text())

    def test_2_its_forbidden_connection_is_refused_and_reported(self):
        wait_for(lambda: "forbidden connection" in self.console(), BOOT_TIMEOUT_S, "the forbidden try")
        self.assertIn("forbidden connection to 10.77.0.1:445 refused", self.console())
        events = [json.loads(l) for l in self.events.read_text().splitlines()]
        denied = [e for e in events if e["event"] == "flow_denied" and e.get("dport") == 445]
        self.assertGreaterEqual(len(denied), 1, events)  # one a boot
        self.assertEqual({e["rule"] for e in denied}, {"no-smb-from-cabinet"})
        scraped = self.lab.scrape(METRICS_PORT)
        self.assertEqual(metric(scraped, "vitrine_netmon_rule_hits_total", rule="no-smb-from-cabinet"), len(denied))
        self.assertGreaterEqual(metric(scraped, "vitrine_netmon_rule_hits_total", rule="hl7-to-pharmacy"), 1)

    def test_3_a_barcode_on_com2_arrives_as_an_hl7_message(self):
        arrived, scans = standin.scan_barcode(self.com2, self.hl7, "RX-0042-AMOXICILLIN")
        self.assertTrue(arrived, f"not after {scans} scans")
        self.assertIn("RDS^O13", self.wait_hl7("barcode=RX-0042-AMOXICILLIN")[0])

    def test_4_the_disk_counter_survives_qemu_being_killed(self):
        before = len(self.wait_hl7("ADT^A08"))  # the boots so far, each counted on the disk
        self.lab.stop(self.qemu, signal.SIGKILL)
        self.boot()
        self.wait_hl7(f"boot={before + 1}")
        self.assertIn(f"boot counter {before + 1}", self.console())


if __name__ == "__main__":
    require_root()
    NETMON, GUEST = sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(verbosity=2)
