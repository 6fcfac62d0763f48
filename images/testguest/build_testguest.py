#!/usr/bin/python3
"""Builds the stand-in cabinet guest from Debian packages: a Debian kernel, a busybox-static
initramfs that loads the drivers of the XP hardware profile (rtl8139 as 8139cp, PIIX IDE,
UHCI/EHCI) and runs the cabinet simulator (`init`), and a blank disk for its counter.

Usage: build_testguest.py OUTDIR
Writes OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/disk.raw; downloads into OUTDIR/cache once.
"""
import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The drivers the XP profile's hardware needs, and the ACPI power button (XP shuts down on it,
# and so must the stand-in); modules.dep adds what they depend on.
MODULES = ["8139cp", "ata_piix", "sd_mod", "ehci-pci", "uhci-hcd", "button", "evdev"]
DISK_BYTES = 16 << 20


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def kernel_package():
    out = run("apt-cache", "depends", "linux-image-amd64").stdout
    m = re.search(r"Depends: (linux-image-\S+-amd64)", out)
    if not m:
        sys.exit("build_testguest: cannot find the kernel that linux-image-amd64 depends on")
    return m.group(1)


def fetch(cache, package):
    debs = sorted(cache.glob(f"{package}_*.deb"))
    if not debs:
        try:
            run("apt-get", "download", package, cwd=cache)
        except subprocess.CalledProcessError:
            run("apt-get", "update", "-q")  # package lists older than the archive: refresh once
            run("apt-get", "download", package, cwd=cache)
        debs = sorted(cache.glob(f"{package}_*.deb"))
    return debs[-1]


def module_closure(modroot, wanted):
    deps = {}
    for line in (modroot / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {Path(p).name.split(".ko")[0].replace("_", "-"): p for p in deps}
    todo = [by_name[w.replace("_", "-")] for w in wanted]
    closure = set()
    while todo:
        p = todo.pop()
        if p not in closure:
            closure.add(p)
            todo.extend(deps[p])
    return {p: deps[p] for p in closure}


def main():
    out = Path(sys.argv[1]).resolve()
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    kernel_deb = fetch(cache, kernel_package())
    busybox_deb = fetch(cache, "busybox-static")

    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    run("dpkg-deb", "-x", str(kernel_deb), str(work / "kernel"))
    run("dpkg-deb", "-x", str(busybox_deb), str(work / "busybox"))
    version = next((work / "kernel" / "lib" / "modules").iterdir()).name
    # busybox-static has depmod: no need for kmod on the build machine.
    run(str(work / "busybox" / "bin" / "busybox"), "depmod", "-b", str(work / "kernel"), version)
    modroot = work / "kernel" / "lib" / "modules" / version

    root = work / "initramfs"
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", f"lib/modules/{version}"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(work / "busybox" / "bin" / "busybox", root / "bin" / "busybox")
    shutil.copy(HERE / "init", root / "init")
    shutil.copy(HERE / "udhcpc.script", root / "etc" / "udhcpc.script")
    os.chmod(root / "init", 0o755)
    os.chmod(root / "etc" / "udhcpc.script", 0o755)
    closure = module_closure(modroot, MODULES)
    for path in closure:
        dest = root / "lib" / "modules" / version / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(modroot / path, dest)
    (root / "lib" / "modules" / version / "modules.dep").write_text(
        "".join(f"{p}: {' '.join(d)}\n" for p, d in sorted(closure.items())))

    # newc cpio by busybox itself, file list from the tree.
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    proc = subprocess.run([str(root / "bin" / "busybox"), "cpio", "-o", "-H", "newc"], cwd=root,
                          input=("\n".join(["."] + files) + "\n").encode(), capture_output=True,
                          check=True)
    with gzip.open(out / "initrd.img.tmp", "wb") as f:
        f.write(proc.stdout)
    os.replace(out / "initrd.img.tmp", out / "initrd.img")
    shutil.copy(work / "kernel" / "boot" / f"vmlinuz-{version}", out / "vmlinuz")
    if not (out / "disk.raw").exists():
        with open(out / "disk.raw.tmp", "wb") as f:
            f.truncate(DISK_BYTES)
        os.replace(out / "disk.raw.tmp", out / "disk.raw")
    shutil.rmtree(work)
    print(f"stand-in guest: kernel {version}, {len(closure)} modules, initrd "
          f"{(out / 'initrd.img').stat().st_size // 1024} KiB, in {out}")


if __name__ == "__main__":
    main()
