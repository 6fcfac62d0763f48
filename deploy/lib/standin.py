"""The stand-in cabinet under libvirt, as the demo, the e2e tests and the benchmark set it up:
a root libvirtd, an image store imported from the built stand-in disk, and a cabinet.yaml that
points hostd at it, its tap, the lab's uplink and the shipped stand-in policy.
"""
import os
import socket
import shutil
import stat
import subprocess
import time
from pathlib import Path

from vitrine_lab import GUEST_MAC, run, wait_for

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "shipped" / "standin-cabinet.yaml"
# What the stand-in does once booted (see images/testguest/init): HL7 to the pharmacy, heartbeats
# to the console, one connection to SMB that the shipped policy forbids, one name lookup.
GUEST_ARGS = ("vitrine.pharmacy=10.77.0.1:2575 vitrine.console=10.77.0.1:5000 "
              "vitrine.forbidden=10.77.0.1:445 vitrine.lookup=pharmacy.hospital.local")


def ensure_libvirtd():
    """Starts virtlogd and libvirtd if they are not running, and waits for libvirtd's socket.

    Without udev (containers, minimal hosts) /dev/kvm stays root-only, which libvirt takes for
    KVM having gone away since it last probed QEMU: it re-probes QEMU's capabilities on every
    domain start (about 40 s here). Debian's udev rule gives the device to group kvm, mode 0660;
    this applies the same when udev has not.
    """
    kvm = Path("/dev/kvm")
    if kvm.exists() and stat.S_IMODE(kvm.stat().st_mode) == 0o600 and kvm.stat().st_gid == 0:
        try:
            shutil.chown(kvm, group="kvm")
            os.chmod(kvm, 0o660)
        except (LookupError, PermissionError):
            pass  # no kvm group: libvirt works, only slower
    for daemon in ("virtlogd", "libvirtd"):
        if subprocess.run(["pgrep", "-x", daemon], capture_output=True).returncode != 0:
            run([f"/usr/sbin/{daemon}", "-d"])
    wait_for(lambda: subprocess.run(["virsh", "-c", "qemu:///system", "version"],
                                    capture_output=True).returncode == 0,
             60, "libvirtd to accept connections", interval=0.2)


def prepare(workdir, vitrine, guest_dir, name, tap, uplink, hostd_metrics, netmon_metrics,
            extra_cmdline="", com3_device=None):
    """Imports the stand-in's disk into an image store under `workdir` and writes its cabinet.yaml.

    Returns (cabinet_path, com1_log, com2_socket). QEMU runs as libvirt-qemu: everything it
    opens is made reachable by that user. With `com3_device`, COM3 is a mediated port that hostd
    relays from that host device (a scanner's: printable lines up to 64 bytes).
    """
    workdir = Path(workdir)
    os.chmod(workdir, 0o755)
    for f in ("vmlinuz", "initrd.img"):
        shutil.copy(Path(guest_dir) / f, workdir / f)
        os.chmod(workdir / f, 0o644)
    store = workdir / "store"
    run([vitrine, "image", "import", str(Path(guest_dir) / "disk.raw"), "--store", str(store)])
    os.chmod(store, 0o755)
    sockets = workdir / "sockets"
    sockets.mkdir(mode=0o777, exist_ok=True)
    os.chmod(sockets, 0o1777)
    com1, com2 = workdir / "com1.log", sockets / "com2.sock"
    # The cabinet's own copy of the shipped policy: what `vitrine policy reload` re-reads.
    policy = workdir / "policy.yaml"
    shutil.copy(POLICY, policy)
    cabinet = workdir / "cabinet.yaml"
    com3 = "" if com3_device is None else (
        f"  - {{com: 3, type: mediated, device: {com3_device}, path: {sockets / 'com3.sock'}, "
        f"filter: {{maxLineBytes: 64, printable: true}}}}\n")
    cabinet.write_text(f"""apiVersion: vitrine/v1
name: {name}
imageStore: {store}
memoryMiB: 256
hardware: {{arch: x86_64, cpu: qemu64}}
directBoot:
  kernel: {workdir / 'vmlinuz'}
  initrd: {workdir / 'initrd.img'}
  cmdline: "console=ttyS0 panic=-1 quiet ipv6.disable=1 {GUEST_ARGS} {extra_cmdline}"
network:
  mac: "{GUEST_MAC}"
  tap: {tap}
  uplink: {uplink}
  policy: {policy}
serial:
  - {{com: 1, type: file, path: {com1}}}
  - {{com: 2, type: unix, path: {com2}}}
{com3}metrics: {hostd_metrics}
netmonMetrics: {netmon_metrics}
""")
    return cabinet, com1, com2


def start_hostd(bin_dir, cabinet, state_dir, log, shutdown_timeout_s):
    """Launches vitrine-hostd from a build tree on `cabinet`, its stderr appended to `log`."""
    bin_dir = Path(bin_dir)
    with open(log, "a") as err:  # the child keeps its own descriptor
        return subprocess.Popen([str(bin_dir / "hostd" / "vitrine-hostd"), "--cabinet", str(cabinet),
                                 "--netmon", str(bin_dir / "netmon" / "vitrine-netmon"),
                                 "--state-dir", str(state_dir), "--shutdown-timeout", str(shutdown_timeout_s)],
                                stderr=err)


def remove_domain(name):
    """Destroys a domain of that name left by an interrupted run (transient: gone once stopped)."""
    subprocess.run(["virsh", "-c", "qemu:///system", "destroy", name], capture_output=True)
    subprocess.run(["virsh", "-c", "qemu:///system", "undefine", name], capture_output=True)


def domain_running(name):
    r = subprocess.run(["virsh", "-c", "qemu:///system", "domstate", name], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == "running"


def scan_barcode(com2, hl7, code, tries=3):
    """Scans `code` on COM2 as a 9600-baud scanner sends it (about 1 ms a character), and rescans
    if it does not arrive, as a person at the cabinet would. Returns (arrived, scans)."""
    for scan in range(1, tries + 1):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(com2))
            for byte in code.encode() + b"\n":
                s.send(bytes([byte]))
                time.sleep(0.001)
        try:
            wait_for(lambda: [l for l in hl7.read_text().splitlines() if f"barcode={code}" in l], 20,
                     "the scanned barcode's HL7 message", interval=0.2)
            return True, scan
        except TimeoutError:
            pass
    return False, tries
