#!/usr/bin/env python3
"""A long fuzz campaign: each target fuzzed from its seed corpus into a corpus of its own under
OUT until it has had CPU_SECONDS of processor time, then what the grown corpus reaches measured
like the suite's coverage test. Not a test (the suite's fuzz tests run 30 s each): run it, then
record its summary in FUZZING.md.

The time that counts is the fuzzer's CPU time (user and system, from the kernel's accounting of
each run), not the wall clock: a machine shared with builds or another campaign gives a run
less than its wall time. A target is fuzzed in runs of CHUNK wall seconds, each appended to
OUT/<target>.ledger.jsonl (wall and CPU seconds, executions, findings); a campaign stopped
part way is resumed by running the same command again, and goes on from its ledger and corpus.
A target that finds something stops there: the finding is fixed and kept as a regression first.
Each run records the sha256 of the binary it ran: a campaign resumed with a rebuilt target says so.

Usage: campaign.py --bin FUZZ_BUILD_DIR --out DIR [--cpu-seconds 3600] [--chunk 600]
                   [--targets fuzz_smb,fuzz_hl7] [--status]
Writes DIR/summary.jsonl (one line a finished target: CPU time, executions, corpus size,
findings, coverage) and keeps every crash, leak or timeout libFuzzer wrote (DIR/<target>-crash-*, ...).
"""
import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import coverage_report  # noqa: E402


def ledger(out, target):
    path = out / f"{target}.ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def totals(entries):
    return {"cpu_seconds": round(sum(e["cpu_seconds"] for e in entries)),
            "wall_seconds": round(sum(e["wall_seconds"] for e in entries)),
            "executions": sum(e["executions"] for e in entries),
            "findings": sorted({f for e in entries for f in e["findings"]})}


def cpu_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fuzz_once(binary, seeds, grown, out, target, seconds):
    """One run of `seconds` wall seconds; its CPU time from the kernel's account of it."""
    grown.mkdir(parents=True, exist_ok=True)
    started, cpu_before = time.time(), cpu_of_children()
    run = subprocess.run([str(binary), f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
                          "-print_final_stats=1", f"-artifact_prefix={out}/{target}-", str(grown), str(seeds)],
                         capture_output=True, text=True,
                         env={"ASAN_OPTIONS": "detect_leaks=1", "LLVM_PROFILE_FILE": "/dev/null"})
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", run.stderr))
    with open(out / f"{target}.log", "a") as log:
        log.write(run.stderr[-20000:])
    return {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "binary": hashlib.sha256(binary.read_bytes()).hexdigest()[:16],
            "wall_seconds": round(time.time() - started, 1), "cpu_seconds": round(cpu_of_children() - cpu_before, 1),
            "exit": run.returncode, "executions": int(stats.get("number_of_executed_units", 0)),
            "corpus_files": len(list(grown.iterdir())), "findings": findings(binary, out, target)}


# libFuzzer's -timeout and its slow-unit report run on the wall clock: a run starved of CPU (a
# campaign at nice 19 beside a build) reports inputs that are not slow at all. Each such input
# is run again on its own; one that then ends within this is moved to OUT/starved/, not a finding.
STARVED_RERUN_SECONDS = 1.0


def starved(binary, artefact):
    started = time.time()
    run = subprocess.run([str(binary), "-timeout=10", str(artefact)], capture_output=True,
                         env={"ASAN_OPTIONS": "detect_leaks=1", "LLVM_PROFILE_FILE": "/dev/null"})
    return run.returncode == 0 and time.time() - started < STARVED_RERUN_SECONDS


def findings(binary, out, target):
    """What the target's runs left (crashes, leaks, timeouts, slow units), less the starved."""
    found = []
    for artefact in sorted(out.glob(f"{target}-*")):
        kind = artefact.name[len(target) + 1:]
        if kind.startswith(("timeout-", "slow-unit-")) and starved(binary, artefact):
            (out / "starved").mkdir(exist_ok=True)
            artefact.rename(out / "starved" / artefact.name)
            continue
        found.append(artefact.name)
    return found


def campaign(args, out, target):
    """Fuzz until the target has had its CPU time (or found something); then measure."""
    findings(Path(args.bin) / target, out, target)  # what an earlier, starved run left
    while True:
        entries = ledger(out, target)
        for e in entries:  # a finding since found starved is none
            e["findings"] = [f for f in e["findings"] if (out / f).exists()]
        done = totals(entries)
        left = args.cpu_seconds - done["cpu_seconds"]
        if left <= 0 or done["findings"]:
            break
        entry = fuzz_once(Path(args.bin) / target, HERE / "corpus" / target, out / f"{target}.corpus", out, target,
                          min(args.chunk, max(60, int(left))))
        with open(out / f"{target}.ledger.jsonl", "a") as f:
            f.write(json.dumps(entry) + "\n")
        print(target, json.dumps(entry), flush=True)
    result = {"target": target, **done,
              "corpus_files": len(list((out / f"{target}.corpus").iterdir()))}
    # The grown corpus (seeds included) measured as the suite measures the seeds alone.
    measured = coverage_report.measure(argparse.Namespace(bin=args.bin, corpus=str(out), source=str(HERE.parents[1]),
                                                          profdata=args.profdata, cov=args.cov),
                                       target, str(out), corpus_name=f"{target}.corpus", extra=HERE / "corpus" / target)
    result["coverage"] = {f: {"lines": round(v[0], 1), "branches": round(v[1], 1)} for f, v in measured.items()}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cpu-seconds", type=int, default=3600)
    ap.add_argument("--chunk", type=int, default=600, help="wall seconds a run (a ledger line)")
    ap.add_argument("--targets", default=",".join(coverage_report.PARSERS))
    ap.add_argument("--status", action="store_true", help="print each target's ledger totals and stop")
    ap.add_argument("--profdata", default="llvm-profdata")
    ap.add_argument("--cov", default="llvm-cov")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for target in args.targets.split(","):
        if args.status:
            entries = ledger(out, target)
            for e in entries:
                e["findings"] = [f for f in e["findings"] if (out / f).exists()]
            print(target, json.dumps(totals(entries)))
            continue
        result = campaign(args, out, target)
        print(json.dumps(result), flush=True)
        with open(out / "summary.jsonl", "a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
