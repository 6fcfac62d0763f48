#!/usr/bin/python3
"""vitrine-hostd running the stand-in cabinet under a root libvirtd: netmon first, then the
guest; a killed QEMU is restarted with its disk intact; a killed hostd leaves guest and netmon
running and its successor adopts them; a killed netmon is restarted; SIGTERM stops it all.

Usage: test_hostd.py HOSTD NETMON VITRINE GUEST_DIR   (as root)
"""
import os
import shutil
import signal
import socket
import sys
import unittest
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_standin_libvirt as env  # noqa: E402  (its set-up: store, cabinet, hospital, libvirtd)
from vitrine_lab import require_root, wait_for  # noqa: E402

HOSTD = None


class HostdSupervision(env.StandinOnLibvirt):
    """Reuses the stand-in's environment; hostd, not the test, starts and restarts the guest."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass(start_netmon=False)
        cls.state = cls.tmp / "state"
        cls.hostd = cls.start_hostd()

    @classmethod
    def start_hostd(cls):
        p = cls.lab.spawn([HOSTD, "--cabinet", str(cls.cabinet), "--netmon", env.NETMON,
                           "--state-dir", str(cls.state), "--shutdown-timeout", "5"],
                          stderr=open(cls.tmp / "hostd.log", "a"))
        return p

    def hostd_log(self):
        return (self.tmp / "hostd.log").read_text()

    def netmon_pid(self):
        return int((self.state / f"{env.NAME}.netmon.pid").read_text())

    def send_barcode(self, code, tries=3):
        """Scans `code` on COM2 until its HL7 message arrives (a scanner rescans, too)."""
        for attempt in range(tries):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(self.com2))
                s.sendall(code.encode() + b"\n")
                try:
                    return wait_for(lambda: [l for l in self.hl7.read_text().splitlines()
                                             if f"barcode={code}" in l], 20, f"barcode {code}", interval=0.5)
                except TimeoutError:
                    if attempt == tries - 1:
                        raise

    # The inherited tests would start the guest themselves: not here.
    test_1_boots_under_libvirt_and_its_hl7_reaches_the_pharmacy = None
    test_2_a_barcode_on_com2_arrives_as_an_hl7_message = None
    test_3_the_disk_counter_survives_qemu_being_killed = None

    def test_a_hostd_starts_netmon_then_the_guest(self):
        self.wait_hl7("boot=1")
        log = self.hostd_log()
        self.assertLess(log.index("started netmon"), log.index("started guest"))

    def test_b_a_killed_qemu_is_restarted_with_its_disk_intact(self):
        os.kill(self.qemu_pid(), signal.SIGKILL)
        self.wait_hl7("boot=2")
        self.assertIn("restarting in", self.hostd_log())

    def test_c_a_killed_hostd_leaves_the_cabinet_running_and_is_adopted(self):
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

    def test_d_a_killed_netmon_is_restarted(self):
        old = self.netmon_pid()
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: self.netmon_pid() != old, 30, "hostd to restart netmon")
        self.send_barcode("RX-AFTER-NETMON-RESTART")

    def test_e_sigterm_stops_the_guest_and_netmon(self):
        netmon = self.netmon_pid()
        self.lab.stop(self.hostd, signal.SIGTERM)
        self.assertFalse(self.domain_exists())
        with self.assertRaises(ProcessLookupError):
            os.kill(netmon, 0)
        self.assertFalse((self.state / f"{env.NAME}.netmon.pid").exists())


if __name__ == "__main__":
    require_root()
    HOSTD = sys.argv.pop(1)
    env.NETMON, env.VITRINE, env.GUEST = sys.argv.pop(1), sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(verbosity=2)
