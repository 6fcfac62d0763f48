#!/usr/bin/python3
"""netmon's benchmarks, each a ratio to a reference measured in the same run on this machine.

  replay:  packets/s and peak memory of `vitrine-netmon replay` against ndpiReader (nDPI's own
           reader) on the same large capture, built from the shared captures; and with
           netmon's inspectors reading every message they know against none at all.
  inline:  TCP throughput, 64-byte UDP packets/s and ping RTT through netmon against a plain
           kernel bridge joining the same two namespaces (needs root).

Usage: bench.py --netmon BINARY [--copies N] [--runs N] [--seconds N] [--skip-inline] [--skip-replay]
Not a test: it asserts nothing, it prints figures. Record them in BENCHMARKS.md.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, Lab, metric, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402

SHARED = ROOT / "tests" / "data" / "pcaps"  # the public captures (SOURCES.md there)


def timed(cmd):
    """Wall seconds and peak resident memory (KiB) of one run of `cmd`. The memory is time(1)'s
    reading: a child forked from this Python process would count Python's pages until its exec."""
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed with status {r.returncode}")
    return elapsed, int(r.stderr.strip().splitlines()[-1])


def bench_replay(netmon, copies, runs, workdir):
    capture = Path(workdir) / "bench.pcap"
    captures = sorted(str(p) for p in SHARED.iterdir() if p.suffix in (".pcap", ".pcapng"))
    out = subprocess.run([sys.executable, str(HERE / "make_bench_pcap.py"), str(capture),
                          str(copies)] + captures, check=True, capture_output=True, text=True)
    packets = int(out.stdout.split()[1])
    replay = [netmon, "replay", "--pcap", str(capture), "--flows", os.devnull]
    tools = {
        "vitrine-netmon replay": replay,  # the virtual patches on (alerting): SMB and RDP read
        "  inspectors none": replay + ["--inspectors", "none"],
        "  inspectors all": replay + ["--inspectors", "all"],  # every HL7, DICOM, SMB, RDP message
        "ndpiReader": ["ndpiReader", "-q", "-i", str(capture)],
    }
    results = {}
    for name, cmd in tools.items():
        samples = [timed(cmd) for _ in range(runs)]
        seconds = statistics.median(s for s, _ in samples)
        results[name] = {"pps": packets / seconds, "rss_kib": max(m for _, m in samples)}
    ours, ref = results["vitrine-netmon replay"], results["ndpiReader"]
    print(f"\nreplay: {packets} packets ({copies} copies of {len(captures)} shared captures), "
          f"median of {runs} runs")
    for name, r in results.items():
        print(f"  {name:24} {r['pps']:12,.0f} packets/s   peak RSS {r['rss_kib'] / 1024:7.1f} MiB")
    print(f"  ratio packets/s  {ours['pps'] / ref['pps']:.2f}x ndpiReader   (target >= 1.5)")
    print(f"  ratio peak RSS   {ours['rss_kib'] / ref['rss_kib']:.2f}x ndpiReader   (target <= 1.0)")
    on, off = results["  inspectors all"], results["  inspectors none"]
    print(f"  inspectors all   {on['pps'] / off['pps']:.2f}x packets/s of inspectors none, "
          f"{on['pps'] / ref['pps']:.2f}x ndpiReader")
    return ours["pps"] / ref["pps"], ours["rss_kib"] / ref["rss_kib"]


def measure_path(lab, seconds):
    """TCP bits/s, UDP 64-byte-frame packets/s received, mean ping RTT (ms) guest -> hospital."""
    tcp = json.loads(lab.guest(["iperf3", "-c", HOSP_IP, "-t", str(seconds), "-J"]).stdout)
    tcp_bps = tcp["end"]["sum_received"]["bits_per_second"]
    # 18 bytes of UDP payload: 14 + 20 + 8 + 18 = 60 bytes, a minimum (64 with FCS) frame.
    udp = json.loads(lab.guest(["iperf3", "-c", HOSP_IP, "-u", "-l", "18", "-b", "0",
                                "-t", str(seconds), "-J"]).stdout)
    s = udp["end"]["sum"]
    udp_pps = (s["packets"] - s["lost_packets"]) / s["seconds"]
    ping = lab.guest(["ping", "-c", "200", "-i", "0.01", "-q", HOSP_IP]).stdout
    rtt_avg = float(ping.strip().splitlines()[-1].split("=")[1].split("/")[1])
    return tcp_bps, udp_pps, rtt_avg, s["lost_percent"]


def bench_inline(netmon, seconds, workdir):
    lab = Lab("vtb")
    try:
        lab.create()
        lab.spawn(["iperf3", "-s", "-B", HOSP_IP], ns=lab.hosp_ns)
        wait_for(lambda: "5201" in lab.hosp(["ss", "-ltn"]).stdout, 10, "iperf3")
        lab.bridge()
        wait_for(lambda: lab.guest(["ping", "-c", "1", "-W", "1", HOSP_IP], check=False).returncode == 0,
                 10, "the bridge")
        bridge = measure_path(lab, seconds)
        lab.unbridge()
        inline, drops = {}, {}
        for packet_io in ("ring", "pcap"):
            nm = lab.start_netmon(netmon, HERE / "policy.yaml", Path(workdir) / "events.jsonl",
                                  port("bench.replay.netmon"), packet_io)
            wait_for(lambda: lab.guest(["ping", "-c", "1", "-W", "1", HOSP_IP], check=False).returncode == 0,
                     10, "netmon")
            inline[packet_io] = measure_path(lab, seconds)
            drops[packet_io] = metric(lab.scrape(port("bench.replay.netmon")), "vitrine_netmon_capture_dropped_packets_total")
            lab.stop(nm)
    finally:
        lab.destroy()
    print(f"\ninline: guest -> hospital through the same veth pair and namespaces, {seconds} s each")
    print(f"  {'':26} {'kernel bridge':>14} {'netmon ring':>14} {'ratio':>6} {'netmon pcap':>14} {'ratio':>6}")
    names = ("TCP throughput (Mbit/s)", "UDP 64-byte frames/s", "ping RTT mean (ms)")
    scale = (1e-6, 1, 1)
    for i, name in enumerate(names):
        b, r, p = (x[i] * scale[i] for x in (bridge, inline["ring"], inline["pcap"]))
        print(f"  {name:26} {b:14,.3f} {r:14,.3f} {r / b:6.2f} {p:14,.3f} {p / b:6.2f}")
    print(f"  UDP loss: bridge {bridge[3]:.1f}%, ring {inline['ring'][3]:.1f}%, pcap {inline['pcap'][3]:.1f}%;"
          f" capture drops: ring {int(drops['ring'])}, pcap {int(drops['pcap'])}")
    print("  (target: TCP >= 0.8x the bridge)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netmon", required=True)
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--skip-inline", action="store_true")
    ap.add_argument("--skip-replay", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}")
    with tempfile.TemporaryDirectory() as workdir:
        if not args.skip_replay:
            bench_replay(args.netmon, args.copies, args.runs, workdir)
        if not args.skip_inline:
            bench_inline(args.netmon, args.seconds, workdir)


if __name__ == "__main__":
    main()
