#!/usr/bin/env python3
"""What each fuzz target's seed corpus reaches: every input run once through the target built
with clang's source-based coverage (the fuzz tree), then llvm-cov's line and branch coverage of
the files that target parses with. Prints a table; fails if a file falls below its floor in
coverage_floors.txt (a floor is what the corpus reached when it was last raised: a corpus or a
parser change that stops reaching code shows here), or if a target cannot run its corpus.

Usage: coverage_report.py --bin FUZZ_BUILD_DIR --corpus CORPUS_DIR --source REPO --floors FILE
                          --profdata llvm-profdata --cov llvm-cov
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The files each target is the fuzz target for. Files reached only through another target's
# work (the engine reaches every inspector) are measured with their own target.
PARSERS = {
    "fuzz_decode": ["netmon/src/decode.cpp", "netmon/src/checksum.cpp"],
    "fuzz_reassembly": ["netmon/src/reassembly.cpp"],
    "fuzz_hl7": ["netmon/inspectors/hl7/hl7_message.cpp"],
    "fuzz_dicom": ["netmon/inspectors/dicom/dicom_pdu.cpp"],
    "fuzz_rdp": ["netmon/inspectors/rdp/rdp_connect.cpp", "netmon/inspectors/rdp/rdp_inspector.cpp"],
    "fuzz_smb": ["netmon/inspectors/smb/smb_message.cpp", "netmon/inspectors/smb/smb_inspector.cpp",
                 "netmon/inspectors/smb/dcerpc.cpp", "netmon/inspectors/smb/smb_transactions.cpp",
                 "netmon/inspectors/smb/rpc_signatures.cpp", "netmon/inspectors/smb/smb_requests.cpp",
                 # the shared framer, as NetBIOS uses it (keepalives skipped, claims refused)
                 "netmon/include/vitrine/netmon/length_prefixed.h"],
    "fuzz_tls_hello": ["netmon/inspectors/tls/tls_hello.cpp"],
    "fuzz_modbus": ["netmon/inspectors/modbus/modbus_adu.cpp", "netmon/inspectors/modbus/modbus_inspector.cpp"],
    "fuzz_engine": ["netmon/src/tcp_tracker.cpp", "netmon/src/layer2_police.cpp", "netmon/src/engine_streams.cpp"],
    "fuzz_usb_device": ["passthrough/src/usb_device.cpp"],
    "fuzz_serial_filter": ["passthrough/src/serial_filter.cpp"],
}


def floors(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, lines = line.split()
            out[name] = float(lines)
    return out


def measure(args, target, work, corpus_name=None, extra=None):
    """Line and branch coverage of the target's files, every input of its corpus run once
    (and of `extra`, another corpus folder, if given)."""
    binary = Path(args.bin) / target
    corpora = [str(Path(args.corpus) / (corpus_name or target))] + ([str(extra)] if extra else [])
    raw = Path(work) / f"{target}.profraw"
    env = dict(os.environ, LLVM_PROFILE_FILE=str(raw), ASAN_OPTIONS="detect_leaks=0")
    run = subprocess.run([str(binary), "-runs=0", *corpora], env=env, capture_output=True, text=True, timeout=3600)
    if run.returncode != 0 or not raw.exists():
        raise RuntimeError(f"{target} did not run its corpus: {run.stderr[-2000:]}")
    data = Path(work) / f"{target}.profdata"
    subprocess.run([args.profdata, "merge", "-sparse", str(raw), "-o", str(data)], check=True)
    files = [str(Path(args.source) / f) for f in PARSERS[target]]
    report = subprocess.run([args.cov, "export", "-summary-only", f"-instr-profile={data}", str(binary), *files],
                            capture_output=True, text=True, check=True)
    result = {}
    for f in json.loads(report.stdout)["data"][0]["files"]:
        s = f["summary"]
        rel = os.path.relpath(f["filename"], args.source)
        result[rel] = (s["lines"]["percent"], s["branches"]["percent"], s["lines"]["count"], s["lines"]["covered"])
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("bin", "corpus", "source", "floors", "profdata", "cov"):
        ap.add_argument(f"--{name}", required=True)
    args = ap.parse_args()
    want = floors(args.floors)
    failures = []
    print(f"{'file':52} {'target':20} {'lines':>8} {'branches':>9}  floor")
    with tempfile.TemporaryDirectory() as work:
        for target in PARSERS:
            try:
                measured = measure(args, target, work)
            except (RuntimeError, subprocess.SubprocessError) as e:
                failures.append(str(e))
                continue
            for rel in PARSERS[target]:
                if rel not in measured:
                    failures.append(f"{rel}: not in {target}'s coverage")
                    continue
                lines, branches, count, covered = measured[rel]
                floor = want.get(rel)
                mark = "" if floor is None else f"{floor:5.1f}"
                print(f"{rel:52} {target:20} {lines:7.1f}% {branches:8.1f}%  {mark}{'' if lines >= 90 else '  (under 90%)'}")
                if floor is None:
                    failures.append(f"{rel}: no floor in {args.floors}")
                elif lines + 0.05 < floor:  # floors are written to one decimal
                    failures.append(f"{rel}: {lines:.1f}% of its lines reached, below its floor of {floor:.1f}%")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
