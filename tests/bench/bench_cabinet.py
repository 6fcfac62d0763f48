#!/usr/bin/python3
"""The cabinet's start-up and hostd's and netmon's memory, against libvirt alone.

  start:   seconds from `vitrine start` to the stand-in's first HL7 message at the pharmacy,
           against the same domain XML started with `virsh create` while hostd keeps the guest
           stopped, through the same netmon, runs alternating; and from launching vitrine-hostd
           (tap, netmon, guest) to that message.
  memory:  resident memory of vitrine-hostd and vitrine-netmon with the cabinet running, beside
           QEMU's for scale.

Usage: bench_cabinet.py --bin-dir BUILD [--runs N]     (as root)
Not a test: it asserts nothing, it prints figures. Record them in BENCHMARKS.md.
"""
import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "lib"))
from vitrine_lab import Lab, require_root, run, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from hospital import start_hospital  # noqa: E402
import standin  # noqa: E402

NAME = "vitrine-bench"
HOSTD_METRICS, NETMON_PORT = f"127.0.0.1:{port('bench.cabinet.hostd')}", port("bench.cabinet.netmon")
BOOT_TIMEOUT_S = 180


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    require_root("the cabinet benchmark")
    vitrine_bin = args.bin_dir / "hostd" / "vitrine"

    standin.ensure_libvirtd()
    standin.remove_domain(NAME)
    work = Path(tempfile.mkdtemp(prefix="vitrine-bench-", dir="/var/tmp"))
    state = work / "state"
    lab = Lab("vtbench", guest_tap=True)
    hostd = None
    try:
        lab.create()
        hl7 = start_hospital(lab, work)
        cabinet, _, _ = standin.prepare(work, str(vitrine_bin), str(args.bin_dir / "testguest"), NAME,
                                        lab.guest_if, lab.uplink_if, HOSTD_METRICS, f"127.0.0.1:{NETMON_PORT}")
        sock = state / f"{NAME}.sock"

        def vitrine(*a):
            return run([str(vitrine_bin), *a, "--socket", str(sock)])

        def wait_boot(n):
            wait_for(lambda: f"boot={n}" in hl7.read_text(), BOOT_TIMEOUT_S, f"HL7 of boot {n}", interval=0.02)

        def wait_qemu():
            wait_for(lambda: standin.domain_running(NAME), 60, "QEMU", interval=0.02)
            return time.monotonic()

        boot = 1
        t0 = time.monotonic()
        hostd = standin.start_hostd(args.bin_dir, cabinet, state, work / "hostd.log", 30)
        wait_boot(boot)
        cold = time.monotonic() - t0

        # Alternating runs, through the same netmon: `vitrine start` against libvirt alone
        # starting the same domain XML while hostd keeps it stopped (`vitrine stop`).
        xml = work / "domain.xml"
        xml.write_text(run([str(vitrine_bin), "cabinet", "domain-xml", str(cabinet)]).stdout)
        vitrine_start, virsh_create = [], []
        for _ in range(args.runs):
            vitrine("stop")
            boot += 1
            t0 = time.monotonic()
            subprocess.Popen(["virsh", "-c", "qemu:///system", "create", str(xml)], stdout=subprocess.DEVNULL)
            tq = wait_qemu()
            wait_boot(boot)
            virsh_create.append(time.monotonic() - t0)
            print(f"  virsh: qemu running after {tq - t0:.2f} s, HL7 after {time.monotonic() - t0:.2f} s")
            run(["virsh", "-c", "qemu:///system", "shutdown", NAME])
            wait_for(lambda: not standin.domain_running(NAME), 60, "the reference guest to stop")
            boot += 1
            t0 = time.monotonic()
            subprocess.Popen([str(vitrine_bin), "start", "--socket", str(sock)], stdout=subprocess.DEVNULL)
            tq = wait_qemu()
            wait_boot(boot)
            vitrine_start.append(time.monotonic() - t0)
            print(f"  hostd: qemu running after {tq - t0:.2f} s, HL7 after {time.monotonic() - t0:.2f} s")
        netmon_pid = int((state / f"{NAME}.netmon.pid").read_text())
        qemu_pid = int(Path(f"/run/libvirt/qemu/{NAME}.pid").read_text())
        memory = {"vitrine-hostd": rss_kib(hostd.pid), "vitrine-netmon": rss_kib(netmon_pid),
                  "qemu (the guest, 256 MiB)": rss_kib(qemu_pid)}
        hostd.send_signal(signal.SIGTERM)
        hostd.wait(timeout=120)
        hostd = None

        ours, ref = statistics.median(vitrine_start), statistics.median(virsh_create)
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, QEMU under TCG; median of {args.runs} runs")
        print("\nstart to the first HL7 message at the pharmacy:")
        print(f"  `vitrine start` (hostd)          {ours:6.2f} s   runs {', '.join(f'{s:.2f}' for s in vitrine_start)}")
        print(f"  `virsh create` (libvirt alone)   {ref:6.2f} s   runs {', '.join(f'{s:.2f}' for s in virsh_create)}")
        print(f"  ratio                            {ours / ref:6.2f}")
        print(f"  launching vitrine-hostd (tap, netmon, guest): {cold:.2f} s")
        print("\nresident memory with the cabinet running:")
        for name, kib in memory.items():
            print(f"  {name:28} {kib / 1024:7.1f} MiB")
    except Exception:
        print("hostd's log, last lines:\n" + "\n".join((work / "hostd.log").read_text().splitlines()[-15:]))
        subprocess.run(["cp", str(work / "com1.log"), "/tmp/bench-com1.log"])
        print("console, last lines:\n" + "\n".join((work / "com1.log").read_text(errors="replace").splitlines()[-10:]))
        raise
    finally:
        if hostd and hostd.poll() is None:
            hostd.kill()
        standin.remove_domain(NAME)
        lab.destroy()
        subprocess.run(["rm", "-rf", str(work)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
