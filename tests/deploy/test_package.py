#!/usr/bin/python3
"""The Debian package as hospital IT meets it: built by CPack from this build tree, installed
with apt on this machine, its commands answering, its shipped policies passing `vitrine policy
check`, its systemd unit verified by systemd-analyze, and purged leaving nothing behind.

Usage: test_package.py BUILD_DIR   (as root; fails where vitrine is already installed, leaving it)
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_unit  # noqa: E402

BUILD = None
VERSION = None


def run(*args, check=True, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def installed():
    r = run("dpkg-query", "-W", "-f=${Status}", "vitrine", check=False)
    return "install ok installed" in r.stdout


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if installed():
            # Failing, not skipping: a skipped test would pass with the package unchecked.
            raise AssertionError("vitrine is installed on this machine: the package test will not replace an "
                                 "operator's install (remove it, or run the suite elsewhere)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="vitrine-pkg-")
        out = Path(cls.tmp.name)
        run("cpack", "-G", "DEB", "--config", str(Path(BUILD) / "CPackConfig.cmake"), "-B", str(out))
        debs = sorted(out.glob("vitrine_*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]

    @classmethod
    def tearDownClass(cls):
        if installed():  # a failed test must not leave the package behind
            run("apt-get", "purge", "-y", "-q", "vitrine", check=False)
        cls.tmp.cleanup()

    def test_package(self):
        self.assertEqual(self.deb.name, f"vitrine_{VERSION}_amd64.deb")
        info = run("dpkg-deb", "--field", str(self.deb), "Depends").stdout
        # What hostd drives, and the libraries dpkg-shlibdeps found in the binaries.
        for dep in ("libvirt-daemon-system", "qemu-system-x86", "qemu-utils", "libvirt0", "libpcap0.8",
                    "libndpi4.2", "libusbguard1", "libyaml-cpp0.7", "libprometheus-cpp-core"):
            self.assertIn(dep, info)
        contents = run("dpkg-deb", "--contents", str(self.deb)).stdout
        for path in ("./usr/bin/vitrine", "./usr/bin/vitrine-hostd", "./usr/bin/vitrine-netmon",
                     "./usr/lib/systemd/system/vitrine-hostd@.service", "./etc/default/vitrine-hostd",
                     "./etc/vitrine/xp-cabinet-baseline.yaml", "./etc/vitrine/examples/ward3-site.yaml",
                     "./var/lib/vitrine/", "./usr/share/vitrine/observability/prometheus/vitrine-rules.yml",
                     "./usr/share/vitrine/observability/prometheus/consoles/vitrine-cabinet.html",
                     "./usr/share/doc/vitrine/FLEET.md"):
            self.assertRegex(contents, rf"\s{re.escape(path)}(\s|$)", path)

        # Installed with apt, as hospital IT would; every dependency is already here.
        r = run("apt-get", "install", "-y", "-q", "--no-install-recommends", str(self.deb),
                env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"})
        self.assertTrue(installed(), r.stdout)
        listed = run("dpkg", "-L", "vitrine").stdout.splitlines()
        self.assertEqual(run("dpkg-query", "-W", "-f=${Conffiles}", "vitrine").stdout.count("/etc/"), 4)

        self.assertEqual(run("/usr/bin/vitrine", "--version").stdout.strip(), f"vitrine {VERSION}")
        self.assertEqual(run("/usr/bin/vitrine-hostd", "--version").stdout.strip(), f"vitrine-hostd {VERSION}")
        self.assertEqual(run("/usr/bin/vitrine-netmon", "--version").stdout.strip(), f"vitrine-netmon {VERSION}")
        # The shipped site example, and through it the vendor baseline it extends (a baseline has
        # no guest of its own and is checked only through a site's policy).
        r = run("/usr/bin/vitrine", "policy", "check", "/etc/vitrine/examples/ward3-site.yaml")
        self.assertIn("ward-3-cabinet", r.stdout)
        # A policy with a mistake is refused by the installed command, naming its line.
        bad = Path(self.tmp.name) / "bad.yaml"
        bad.write_text("apiVersion: vitrine/v1\nname: x\ndefaultAction: alow\n")
        r = run("/usr/bin/vitrine", "policy", "check", str(bad), check=False)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("bad.yaml:3", r.stdout + r.stderr)

        # The unit as installed, for a cabinet named ward3-cabinet: no warning of any kind.
        problems, exposure = check_unit.verify("/usr/lib/systemd/system/vitrine-hostd@.service")
        self.assertEqual(problems, [])
        print(f"systemd-analyze security: exposure {exposure}", file=sys.stderr)

        # Purged: every file it installed is gone, and so are its directories.
        run("apt-get", "purge", "-y", "-q", "vitrine", env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"})
        self.assertFalse(installed())
        self.assertNotIn("config-files", run("dpkg-query", "-W", "-f=${Status}", "vitrine", check=False).stdout,
                         "purged, not only removed")
        left = [p for p in listed if os.path.isfile(p)]
        self.assertEqual(left, [])
        for folder in ("/etc/vitrine", "/var/lib/vitrine", "/usr/share/vitrine", "/usr/share/doc/vitrine"):
            self.assertFalse(os.path.exists(folder), folder)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    cache = (Path(BUILD) / "CMakeCache.txt").read_text()
    VERSION = re.search(r"^CMAKE_PROJECT_VERSION:STATIC=(.*)$", cache, re.M).group(1)
    if os.geteuid() != 0:
        sys.exit("the package test needs root (apt)")
    unittest.main(verbosity=2)
