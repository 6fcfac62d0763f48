#!/usr/bin/python3
"""deploy/fleet/check-site.sh, the CI job FLEET.md gives a site's policy repository: it passes a
repository whose policies, cabinets and captures agree, and fails, naming the file, one with a
policy that does not load, a cabinet with a mistake, or a capture whose flows the policy no
longer judges as expected.

Usage: test_check_site.py VITRINE
"""
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "fleet" / "check-site.sh"
CASE = ROOT / "tests" / "golden" / "hl7-sender"   # a policy, a capture of its cabinet, the verdicts
VITRINE = None


class CheckSite(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.site = Path(self.tmp.name) / "site-repo"
        (self.site / "policies").mkdir(parents=True)
        (self.site / "cabinets").mkdir()
        (self.site / "captures" / "ward3-cabinet").mkdir(parents=True)
        shutil.copy(CASE / "policy.yaml", self.site / "policies" / "ward3-cabinet.yaml")
        shutil.copy(ROOT / "deploy" / "cabinets" / "ward3-cabinet.yaml", self.site / "cabinets")
        shutil.copy(CASE / "input.pcap", self.site / "captures" / "ward3-cabinet" / "orders.pcap")
        shutil.copy(CASE / "expect.yaml", self.site / "captures" / "ward3-cabinet" / "orders.expect.yaml")
        # The capture was recorded where the sender left its checksums to the NIC.
        shutil.copy(CASE / "replay.args", self.site / "captures" / "ward3-cabinet" / "orders.args")

    def tearDown(self):
        self.tmp.cleanup()

    def check(self):
        return subprocess.run(["bash", str(SCRIPT), str(self.site), VITRINE], capture_output=True, text=True)

    def test_a_repository_that_agrees_passes(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 checked, 0 failed", r.stdout)

    def test_a_policy_that_does_not_load_fails(self):
        policy = self.site / "policies" / "ward3-cabinet.yaml"
        policy.write_text(policy.read_text().replace("defaultAction: deny", "defaultAction: dney"))
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL: policy check", r.stderr)
        self.assertIn("ward3-cabinet.yaml", r.stderr)

    def test_a_cabinet_with_a_mistake_fails(self):
        cabinet = self.site / "cabinets" / "ward3-cabinet.yaml"
        cabinet.write_text(cabinet.read_text().replace("memoryMiB: 512", "memoryMiB: lots"))
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL: cabinet check", r.stderr)

    def test_a_verdict_that_differs_from_the_reviewed_one_fails(self):
        # The reviewed expectation says the first order is refused; the policy allows it.
        expect = self.site / "captures" / "ward3-cabinet" / "orders.expect.yaml"
        expect.write_text(expect.read_text().replace("verdict: allow", "verdict: deny", 1))
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL: policy test", r.stderr)
        self.assertIn("orders.pcap", r.stderr)

    def test_a_capture_without_its_expectation_fails(self):
        (self.site / "captures" / "ward3-cabinet" / "orders.expect.yaml").unlink()
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn("no expectation", r.stderr)

    def test_an_empty_repository_is_not_a_pass(self):
        shutil.rmtree(self.site)
        self.site.mkdir()
        self.assertEqual(self.check().returncode, 1)


if __name__ == "__main__":
    VITRINE = sys.argv.pop(1)
    unittest.main(verbosity=2)
