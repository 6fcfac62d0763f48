#!/usr/bin/python3
"""Two netmon builds through the same lab, one then the other, in alternating rounds: 64-byte
UDP frames/s and TCP Mbit/s guest -> hospital on the ring back end, each build's median and the
ratio of the first to the second. For a change's cost to the data path, where a ratio to the
kernel bridge of another day would mislead (the bridge itself varies by a fifth between runs).

Usage (root): bench_ab.py NETMON REFERENCE_NETMON [--rounds N] [--seconds S]
Not a test: it asserts nothing, it prints figures. Record them in BENCHMARKS.md.
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, Lab, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402


def measure(lab, seconds):
    udp = json.loads(lab.guest(["iperf3", "-c", HOSP_IP, "-u", "-l", "18", "-b", "0", "-t", str(seconds),
                                "-J"]).stdout)["end"]["sum"]
    tcp = json.loads(lab.guest(["iperf3", "-c", HOSP_IP, "-t", str(seconds), "-J"]).stdout)
    return (udp["packets"] - udp["lost_packets"]) / udp["seconds"], tcp["end"]["sum_received"]["bits_per_second"] / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("netmon")
    ap.add_argument("reference")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=8)
    args = ap.parse_args()
    builds = [("netmon", args.netmon), ("reference", args.reference)]
    results = {name: {"udp": [], "tcp": []} for name, _ in builds}
    lab = Lab("vab")
    work = tempfile.TemporaryDirectory()
    try:
        lab.create()
        lab.spawn(["iperf3", "-s", "-B", HOSP_IP], ns=lab.hosp_ns)
        wait_for(lambda: "5201" in lab.hosp(["ss", "-ltn"]).stdout, 10, "iperf3")
        for r in range(args.rounds):
            for name, binary in (builds if r % 2 == 0 else builds[::-1]):  # neither always first
                nm = lab.start_netmon(binary, HERE / "policy.yaml", Path(work.name) / "events.jsonl", port("bench.ab.netmon"),
                                      "ring")
                wait_for(lambda: lab.guest(["ping", "-c", "1", "-W", "1", HOSP_IP], check=False).returncode == 0,
                         10, "netmon")
                udp, tcp = measure(lab, args.seconds)
                lab.stop(nm)
                results[name]["udp"].append(udp)
                results[name]["tcp"].append(tcp)
    finally:
        lab.destroy()
        work.cleanup()
    print(f"A/B, ring back end, {args.rounds} alternating rounds of {args.seconds} s")
    for kind, unit in (("udp", "64-byte UDP frames/s"), ("tcp", "TCP Mbit/s")):
        ours, ref = (statistics.median(results[n][kind]) for n, _ in builds)
        print(f"  {unit:22} netmon {ours:12,.1f}   reference {ref:12,.1f}   ratio {ours / ref:.3f}")


if __name__ == "__main__":
    main()
