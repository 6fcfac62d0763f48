#!/usr/bin/python3
"""`vitrine image`: import from every supported format, refusal of damaged or dangerous
sources with nothing left behind, and a golden base that nothing writes to.

Usage: test_image_store.py VITRINE_BINARY   (needs qemu-img and qemu-io)
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

VITRINE = None
SIZE = 8 << 20  # 8 MiB: large enough for several clusters in every format


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ImageStoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="vitrine-img-"))
        self.raw = self.tmp / "disk.raw"
        # A disk with recognisable content in places, holes elsewhere.
        with open(self.raw, "wb") as f:
            f.truncate(SIZE)
            for offset in (0, 3 << 20, SIZE - 4096):
                f.seek(offset)
                f.write(os.urandom(4096))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def vitrine(self, *args):
        return sh(VITRINE, "image", *[str(a) for a in args], check=False)

    def convert(self, fmt, name=None, *options):
        out = self.tmp / (name or f"disk.{fmt}")
        sh("qemu-img", "convert", "-f", "raw", "-O", fmt, *options, str(self.raw), str(out))
        return out

    def assert_refused(self, result, words, store):
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn(words, result.stderr)
        self.assertFalse(store.exists(), f"left behind: {list(store.iterdir()) if store.exists() else ''}")

    def test_imports_each_format_with_the_guest_seeing_the_same_disk(self):
        for fmt in ("raw", "vmdk", "vpc", "qcow2"):
            with self.subTest(fmt=fmt):
                source = self.raw if fmt == "raw" else self.convert(fmt)
                store = self.tmp / f"store-{fmt}"
                r = self.vitrine("import", source, "--store", store)
                self.assertEqual(r.returncode, 0, r.stderr)
                manifest = json.loads((store / "manifest.json").read_text())
                self.assertEqual(manifest["source_format"], fmt)
                self.assertEqual(manifest["source_sha256"], sha256(source))
                self.assertEqual(manifest["golden_sha256"], sha256(store / "golden.qcow2"))
                self.assertEqual(stat.S_IMODE(os.stat(store / "golden.qcow2").st_mode), 0o444)
                # What the guest reads through the overlay is the old disk, byte for byte
                # (VHD rounds the size up to its geometry: compare the original's length).
                cmp = sh("qemu-img", "compare", "-f", "raw", "-F", "qcow2", str(self.raw),
                         str(store / "overlay.qcow2"), check=False)
                self.assertEqual(cmp.returncode, 0, cmp.stdout + cmp.stderr)

    def test_truncated_sources_are_refused_and_leave_nothing(self):
        for fmt in ("vmdk", "vpc", "qcow2"):
            with self.subTest(fmt=fmt):
                source = self.convert(fmt, f"cut.{fmt}")
                os.truncate(source, os.path.getsize(source) // 2)
                store = self.tmp / f"cut-{fmt}"
                r = self.vitrine("import", source, "--store", store)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertFalse(store.exists())
        cut_raw = self.tmp / "cut.raw"
        shutil.copy(self.raw, cut_raw)
        os.truncate(cut_raw, SIZE - 100)
        self.assert_refused(self.vitrine("import", cut_raw, "--store", self.tmp / "cut-raw"),
                            "not a whole number of 512-byte sectors", self.tmp / "cut-raw")

    def test_a_source_that_differs_from_its_recorded_checksum_is_refused(self):
        store = self.tmp / "store"
        self.assert_refused(self.vitrine("import", self.raw, "--store", store, "--sha256", "0" * 64),
                            "differs from the original", store)
        r = self.vitrine("import", self.raw, "--store", store, "--sha256", sha256(self.raw))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_images_that_name_other_host_files_are_refused(self):
        backed = self.tmp / "backed.qcow2"
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-b", str(self.raw), "-F", "raw", str(backed))
        self.assert_refused(self.vitrine("import", backed, "--store", self.tmp / "s1"),
                            "backing file", self.tmp / "s1")
        split = self.convert("vmdk", "split.vmdk", "-o", "subformat=twoGbMaxExtentSparse")
        self.assert_refused(self.vitrine("import", split, "--store", self.tmp / "s2"),
                            "names another file as an extent", self.tmp / "s2")

    def test_unsupported_formats_are_refused(self):
        vdi = self.convert("vdi")
        self.assert_refused(self.vitrine("import", vdi, "--store", self.tmp / "s"),
                            "is not one of raw, vmdk, vpc (VHD), qcow2", self.tmp / "s")

    def test_a_store_is_imported_into_once(self):
        store = self.tmp / "store"
        self.assertEqual(self.vitrine("import", self.raw, "--store", store).returncode, 0)
        before = sorted(p.name for p in store.iterdir())
        r = self.vitrine("import", self.raw, "--store", store)
        self.assertEqual(r.returncode, 2)
        self.assertIn("already holds a golden image", r.stderr)
        self.assertEqual(sorted(p.name for p in store.iterdir()), before)

    def test_golden_base_is_never_written(self):
        store = self.tmp / "store"
        self.assertEqual(self.vitrine("import", self.raw, "--store", store).returncode, 0)
        golden, overlay = store / "golden.qcow2", str(store / "overlay.qcow2")
        original = sha256(golden)

        def io(command):
            r = sh("qemu-io", "-f", "qcow2", "-c", command, overlay, check=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("Pattern verification failed", r.stdout)

        io("write -P 0xa1 0 64k")                       # the guest writes
        self.assertEqual(self.vitrine("snapshot", "create", "before-update", "--store", store).returncode, 0)
        io("write -P 0xb2 0 64k")
        io("write -P 0xb2 4M 1M")
        self.assertEqual(self.vitrine("snapshot", "revert", "before-update", "--store", store).returncode, 0)
        io("read -P 0xa1 0 64k")                        # the snapshot's content is back
        listed = self.vitrine("snapshot", "list", "--store", store).stdout
        self.assertIn("before-update", listed)
        self.assertEqual(self.vitrine("reset", "--store", store).returncode, 0)
        cmp = sh("qemu-img", "compare", "-f", "raw", "-F", "qcow2", str(self.raw), overlay, check=False)
        self.assertEqual(cmp.returncode, 0, "after reset the guest sees the imported disk")
        self.assertEqual(sha256(golden), original)
        self.assertEqual(self.vitrine("verify", "--store", store).returncode, 0)
        # And verify does notice a changed base.
        os.chmod(golden, 0o644)
        with open(golden, "r+b") as f:
            f.seek(1 << 20)
            f.write(b"tampered")
        self.assertEqual(self.vitrine("verify", "--store", store).returncode, 2)

    def test_bad_snapshot_names_and_missing_stores_are_clear_errors(self):
        store = self.tmp / "store"
        r = self.vitrine("snapshot", "list", "--store", store)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no golden image here", r.stderr)
        self.assertEqual(self.vitrine("import", self.raw, "--store", store).returncode, 0)
        r = self.vitrine("snapshot", "create", "../../etc", "--store", store)
        self.assertEqual(r.returncode, 2)
        self.assertIn("use 1 to 64 of", r.stderr)
        r = self.vitrine("snapshot", "revert", "nosuch", "--store", store)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    VITRINE = sys.argv.pop(1)
    unittest.main(verbosity=2)
