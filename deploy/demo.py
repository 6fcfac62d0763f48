#!/usr/bin/python3
"""The demo: vitrine-hostd boots the stand-in cabinet (images/testguest, on the XP hardware
profile) under libvirt, behind netmon, on a stand-in hospital network in a namespace with a
pharmacy HL7 listener, a console, DNS/DHCP and a file server. It shows what the cabinet does
and what netmon refuses, `vitrine status`, the metrics and the events; then stops the cabinet
gracefully and removes everything it made. Exits 1 if anything did not happen as it should.

Usage: demo.py --bin-dir BUILD [--keep]
  BUILD holds hostd/vitrine-hostd, hostd/vitrine, netmon/vitrine-netmon and testguest/.
"""
import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from vitrine_lab import GUEST_IP, HOSP_IP, Lab, metric, parse_metrics, wait_for  # noqa: E402
from hospital import start_hospital  # noqa: E402
import standin  # noqa: E402

NAME = "vitrine-demo"
HOSTD_METRICS, NETMON_METRICS = "127.0.0.1:9470", "127.0.0.1:9471"
# TCG boots the stand-in in about 10 s on this kind of machine; a loaded host takes longer.
BOOT_TIMEOUT_S = 180
# A hospital host probing the cabinet's SMB port, as WannaCry did.
PROBE = ("import socket,sys\n"
         "s=socket.socket(); s.settimeout(5)\n"
         "try:\n s.connect((sys.argv[1],int(sys.argv[2]))); print('connected')\n"
         "except Exception as e: print(type(e).__name__)\n")

failures = []


def say(ok, verdict, what, detail=""):
    if not ok:
        failures.append(what)
    print(f"  [{verdict if ok else 'FAILED':7}] {what:52} {detail}")


def scrape(address):
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
        return parse_metrics(r.read().decode())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True, type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the cabinet running until Ctrl-C")
    args = ap.parse_args()
    vitrine_bin = args.bin_dir / "hostd" / "vitrine"

    standin.ensure_libvirtd()
    standin.remove_domain(NAME)  # left by an interrupted run
    # QEMU (as libvirt-qemu) opens the kernel and disk here: not under a private /tmp.
    work = Path(tempfile.mkdtemp(prefix="vitrine-demo-", dir="/var/tmp"))
    state = work / "state"
    lab = Lab("vtdemo", guest_tap=True)
    hostd = None
    try:
        lab.create()
        hl7 = start_hospital(lab, work)
        cabinet, com1, com2 = standin.prepare(work, str(vitrine_bin), str(args.bin_dir / "testguest"), NAME,
                                              lab.guest_if, lab.uplink_if, HOSTD_METRICS, NETMON_METRICS)
        socket_path = state / f"{NAME}.sock"

        def vitrine(*a):
            return subprocess.run([str(vitrine_bin), *a, "--socket", str(socket_path)],
                                  capture_output=True, text=True)

        def console():
            return com1.read_text(errors="replace") if com1.exists() else ""

        print(f"vitrine demo: the stand-in cabinet ({GUEST_IP}) on the hospital network ({HOSP_IP}),"
              f" only through netmon")
        print(f"  cabinet  {cabinet}")
        print(f"  policy   {standin.POLICY}")
        print(f"  metrics  hostd http://{HOSTD_METRICS}/metrics   netmon http://{NETMON_METRICS}/metrics")
        print(f"  control  vitrine status --socket {socket_path}\n")

        started = time.monotonic()
        hostd = standin.start_hostd(args.bin_dir, cabinet, state, work / "hostd.log", 20)
        wait_for(lambda: [l for l in hl7.read_text().splitlines() if "ADT^A08" in l],
                         BOOT_TIMEOUT_S, "the cabinet's first HL7 message", interval=0.2)
        say(True, "allowed", "cabinet booted, HL7 ADT^A08 reached the pharmacy",
            f"{time.monotonic() - started:.1f} s after hostd started")
        wait_for(lambda: "forbidden connection" in console(), 60, "the cabinet's SMB attempt")
        out = console()
        say("address 10.77.0.2" in out, "allowed", "DHCP lease from the hospital", "10.77.0.2")
        say("resolved pharmacy.hospital.local" in out, "allowed", "DNS lookup pharmacy.hospital.local")
        say("refused" in out.split("forbidden connection", 1)[1].splitlines()[0], "blocked",
            "cabinet's SMB connect to the file server (tcp/445)", "reset by netmon")
        got, scans = standin.scan_barcode(com2, hl7, "RX-1029-INSULIN")
        if not got:
            print("  cabinet console (COM1), last lines:\n    " + "\n    ".join(console().splitlines()[-8:]))
        say(bool(got), "allowed", "barcode scanned on COM2 -> HL7 RDS^O13",
            f"RX-1029-INSULIN ({scans} scan{'s' if scans > 1 else ''})")
        r = lab.hosp([sys.executable, "-c", PROBE, GUEST_IP, "445"]).stdout.strip()
        say(r != "connected", "blocked", "hospital host probing the cabinet's SMB (tcp/445)", r)

        print("\n$ vitrine status")
        st = vitrine("status")
        print("  " + st.stdout.strip().replace("\n", "\n  "))
        say(st.returncode == 0 and "running" in st.stdout, "ok", "vitrine status")

        h, n = scrape(HOSTD_METRICS), scrape(NETMON_METRICS)
        print("\nmetrics:")
        print(f"  vitrine_domain_up {metric(h, 'vitrine_domain_up'):.0f}   vitrine_netmon_up {metric(h, 'vitrine_netmon_up'):.0f}"
              f"   vitrine_domain_crash_loop {metric(h, 'vitrine_domain_crash_loop'):.0f}")
        print(f"  vitrine_domain_info_cpu_time_seconds_total {metric(h, 'vitrine_domain_info_cpu_time_seconds_total'):.1f}"
              f"   disk writes {metric(h, 'vitrine_domain_block_stats_write_bytes_total'):.0f} bytes")
        for d in ("egress", "ingress"):
            print(f"  frames {d:8} allowed {int(metric(n, 'vitrine_netmon_packets_total', direction=d, verdict='allow')):5}"
                  f"   denied {int(metric(n, 'vitrine_netmon_packets_total', direction=d, verdict='deny')):5}")
        say(metric(n, "vitrine_netmon_rule_hits_total", rule="no-smb-from-cabinet") >= 1, "counted",
            "netmon counted the SMB attempt against its rule")

        print("\n$ vitrine events --last 12")
        ev = vitrine("events", "--last", "12")
        print("  " + ev.stdout.strip().replace("\n", "\n  "))
        denied = [json.loads(l) for l in vitrine("events", "--json", "--last", "200").stdout.splitlines()]
        say(any(e["event"] == "flow_denied" and e.get("dport") == 445 and e.get("direction") == "ingress"
                for e in denied), "recorded", "the hospital's SMB probe is an event")

        if args.keep:
            print("\nthe cabinet keeps running; try `vitrine status --socket "
                  f"{socket_path}`; Ctrl-C to stop it and clean up")
            # Blocked first: sigwait takes them, so the clean-up below runs for either.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        if hostd and hostd.poll() is None:
            print("\nstopping: ACPI shutdown of the cabinet, then netmon")
            hostd.send_signal(signal.SIGTERM)
            try:
                hostd.wait(timeout=60)
            except subprocess.TimeoutExpired:
                hostd.kill()
        standin.remove_domain(NAME)
        lab.destroy()
        shutil.rmtree(work, ignore_errors=True)
        print("cleaned up: guest, namespaces, interfaces, servers and files removed")
    if failures:
        print(f"\ndemo: {len(failures)} thing(s) did not happen as they should: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
