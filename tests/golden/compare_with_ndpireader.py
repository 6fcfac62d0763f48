#!/usr/bin/python3
"""Checks that replay labels each flow of a capture as ndpiReader (nDPI's own reader) does.

Usage: compare_with_ndpireader.py NETMON_BINARY CAPTURE

Both tools run on the same file; flows are matched on their unordered endpoints and L4
protocol. Exits 1 and lists every difference when a flow is missing on either side or its
"Master.App" label differs. A flow netmon's own inspectors name (HL7, DICOM: protocols nDPI 4.2
does not know) is where the two may differ: it is listed, not counted as a difference. These
public captures are ordinary traffic: a `malformed` event on one is also a difference (a reader
took a protocol for its own, as the RDP recogniser once took SQL Server's TDS, whose RPC
packets start with the byte a TPKT does).
"""
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# Protocols netmon's own inspectors recognise in the payload (netmon/inspectors/).
OWN_PROTOCOLS = {"HL7", "DICOM"}


def flow_key(l4, a, aport, b, bport):
    ends = sorted([(a, int(aport)), (b, int(bport))])
    return (l4, ends[0], ends[1])


# A flow line of ndpiReader's -w report (with -v 2, which lists undetected flows too):
#   \t3\tTCP 172.16.8.201:49171 <-> 172.16.8.8:88 [proto: 111/Kerberos][...]
FLOW_LINE = re.compile(
    r"^\s+\d+\s+(?P<l4>\S+)\s+\[?(?P<a>[^\s\]]+?)\]?:(?P<aport>\d+)\s+<?->\s+"
    r"\[?(?P<b>[^\s\]]+?)\]?:(?P<bport>\d+)\s+\[proto: [\d.]+/(?P<label>[^\]]+)\]")


def ndpireader_labels(capture, workdir):
    out = Path(workdir) / "ndpi.txt"
    subprocess.run(["ndpiReader", "-q", "-v", "2", "-i", str(capture), "-w", str(out)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    labels = {}
    for line in out.read_text(errors="replace").splitlines():
        m = FLOW_LINE.match(line)
        if m:
            key = flow_key(m["l4"], m["a"], m["aport"], m["b"], m["bport"])
            labels[key] = m["label"]
    return labels


def replay_labels(netmon, capture, workdir):
    out, events = Path(workdir) / "flows.jsonl", Path(workdir) / "events.jsonl"
    # ndpiReader reads every packet whatever its checksum: so does replay here, to compare labels.
    subprocess.run([netmon, "replay", "--pcap", str(capture), "--flows", str(out), "--events", str(events),
                    "--checksums", "ignore"], check=True, stdout=subprocess.DEVNULL)
    malformed = [json.loads(line) for line in events.read_text().splitlines() if '"malformed"' in line]
    labels = {"malformed": [e.get("reason", "") for e in malformed if e.get("event") == "malformed"]}
    for line in out.read_text().splitlines():
        flow = json.loads(line)
        key = flow_key(flow["l4"], flow["src"], flow["sport"], flow["dst"], flow["dport"])
        labels[key] = flow["protocol"]
    return labels


def main():
    netmon, capture = sys.argv[1], Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as workdir:
        expected = ndpireader_labels(capture, workdir)
        got = replay_labels(netmon, capture, workdir)
    problems = [f"  malformed: {reason}" for reason in got.pop("malformed")]
    for key in sorted(set(expected) | set(got)):
        want, have = expected.get(key), got.get(key)
        if want is not None and have in OWN_PROTOCOLS:
            print(f"  {key}: ndpiReader {want!r}, netmon's own inspector {have!r}")
        elif want != have:
            problems.append(f"  {key}: ndpiReader {want!r}, replay {have!r}")
    if not expected:
        problems.append("  ndpiReader reported no flows: nothing was compared")
    if problems:
        print(f"{capture.name}: {len(problems)} of {len(expected)} flows differ")
        print("\n".join(problems))
        return 1
    print(f"{capture.name}: {len(expected)} flows, every label as ndpiReader's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
