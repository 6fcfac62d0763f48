#!/usr/bin/python3
"""What one flow costs netmon in memory, by kind, and the whole at 100,000 concurrent allowed
flows: replay (the relay's engine, without its rings) over captures of N flows of one kind,
peak RSS against the same replay of a capture of one flow, in the same run.

  denied      a SYN to a port no rule allows (the deny cache, not the table)
  half-open   a SYN to an allowed port, never answered (the unanswered share)
  ndpi        an allowed connection with one segment nDPI cannot name yet (its state kept)
  allowed     an allowed connection whose HTTP exchange nDPI has named (its state freed; the
              host, method and path it read kept)

Usage: bench_flow_memory.py --netmon BINARY [--flows N]
Not a test: it prints figures. Record them in BENCHMARKS.md.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_bench_pcap import checksum, ones_sum  # noqa: E402

GUEST_MAC, SERVER_MAC = bytes.fromhex("525400770002"), bytes.fromhex("525400770001")
GUEST = bytes([10, 77, 0, 2])
POLICY = """apiVersion: vitrine/v1
name: flow-memory
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
defaultAction: deny
limits: {maxFlows: 200000, maxUnansweredFlows: 100000, tcpIdleTimeoutSeconds: 86400, tcpHalfOpenTimeoutSeconds: 600}
rules:
  - {name: web, direction: egress, peers: [10.0.0.0/8], transport: tcp, ports: [80], action: allow}
"""


def server(i):
    return bytes([10, 1 + i // 60000 % 200, (i // 250) % 240, 1 + i % 250])


def frame(src, dst, smac, dmac, sport, dport, seq, ack, flags, data=b""):
    tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data)
    tcp[16:18] = struct.pack("!H", checksum(ones_sum(bytes(tcp)) + ones_sum(src + dst) + 6 + len(tcp)))
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst))
    ip[10:12] = struct.pack("!H", checksum(ones_sum(bytes(ip))))
    return dmac + smac + b"\x08\x00" + bytes(ip) + bytes(tcp)


def flow_frames(kind, i):
    s, sport = server(i), 1024 + i % 60000
    c = lambda seq, ack, flags, data=b"", dport=80: frame(GUEST, s, GUEST_MAC, SERVER_MAC, sport, dport, seq, ack, flags, data)
    r = lambda seq, ack, flags, data=b"": frame(s, GUEST, SERVER_MAC, GUEST_MAC, 80, sport, seq, ack, flags, data)
    if kind == "denied":
        return [c(1, 0, 0x02, dport=445)]
    if kind == "half-open":
        return [c(1, 0, 0x02)]
    handshake = [c(1, 0, 0x02), r(100, 2, 0x12), c(2, 101, 0x10)]
    if kind == "ndpi":
        return handshake + [c(2, 101, 0x18, b"\x17\x42 not yet a protocol nDPI names")]
    get = b"GET / HTTP/1.1\r\nHost: pharmacy\r\n\r\n"
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    return handshake + [c(2, 101, 0x18, get), r(101, 2 + len(get), 0x18, ok), c(2 + len(get), 101 + len(ok), 0x10)]


def write_capture(path, kind, n):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        t = 0
        for i in range(n):
            for data in flow_frames(kind, i):
                t += 20  # 50,000 frames a second: all flows alive at the end
                f.write(struct.pack("<IIII", 1700000000 + t // 1000000, t % 1000000, len(data), len(data)))
                f.write(data)


def peak_rss_kib(netmon, capture, policy):
    # Through time(1): the peak of a child forked from this (large) Python process would count
    # the Python process's own pages until the exec.
    r = subprocess.run(["/usr/bin/time", "-f", "%M", netmon, "replay", "--pcap", str(capture), "--policy", str(policy),
                        "--flows", os.devnull], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"replay failed on {capture}: {r.stderr}")
    return int(r.stderr.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netmon", required=True)
    ap.add_argument("--flows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(POLICY)
        results = {}
        for kind in ("denied", "half-open", "ndpi", "allowed"):
            one, many = Path(tmp) / f"{kind}-1.pcap", Path(tmp) / f"{kind}-n.pcap"
            write_capture(one, kind, 1)
            started = time.monotonic()
            write_capture(many, kind, args.flows)
            base, peak = peak_rss_kib(args.netmon, one, policy), peak_rss_kib(args.netmon, many, policy)
            results[kind] = (base, peak)
            print(f"  {kind:10} {args.flows:,} flows: peak RSS {peak / 1024:6.1f} MiB, one flow {base / 1024:5.1f} MiB: "
                  f"{(peak - base) * 1024 / args.flows:6.0f} bytes a flow   ({time.monotonic() - started:.0f} s)")
        base, peak = results["allowed"]
        print(f"  {args.flows:,} concurrent allowed flows: {peak / 1024:.1f} MiB (target <= 64 MiB)")


if __name__ == "__main__":
    main()
