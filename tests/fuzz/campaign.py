#!/usr/bin/env python3
"""A long fuzz campaign: each target fuzzed for SECONDS from its seed corpus into a corpus of
its own under OUT, then what the grown corpus reaches measured like the suite's coverage test.
Not a test (the suite's fuzz tests run 30 s each): run it, then record its summary in FUZZING.md.

Usage: campaign.py --bin FUZZ_BUILD_DIR --out DIR [--seconds 3600] [--targets fuzz_smb,fuzz_hl7]
Writes DIR/summary.jsonl (one line a target: executions, corpus size, crashes, coverage) and
keeps every crash, leak or timeout libFuzzer wrote (DIR/<target>-crash-*, ...).
"""
import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import coverage_report  # noqa: E402


def fuzz(binary, seeds, grown, out, target, seconds):
    grown.mkdir(parents=True, exist_ok=True)
    started = time.time()
    run = subprocess.run([str(binary), f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
                          "-print_final_stats=1", f"-artifact_prefix={out}/{target}-", str(grown), str(seeds)],
                         capture_output=True, text=True,
                         env={"ASAN_OPTIONS": "detect_leaks=1", "LLVM_PROFILE_FILE": "/dev/null"})
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", run.stderr))
    (out / f"{target}.log").write_text(run.stderr[-20000:])
    return {"target": target, "seconds": round(time.time() - started), "exit": run.returncode,
            "executions": int(stats.get("number_of_executed_units", 0)),
            "corpus_files": len(list(grown.iterdir())),
            "findings": sorted(p.name for p in out.glob(f"{target}-*"))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=int, default=3600)
    ap.add_argument("--targets", default=",".join(coverage_report.PARSERS))
    ap.add_argument("--profdata", default="llvm-profdata")
    ap.add_argument("--cov", default="llvm-cov")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = HERE.parents[1]
    for target in args.targets.split(","):
        result = fuzz(Path(args.bin) / target, HERE / "corpus" / target, out / f"{target}.corpus", out, target,
                      args.seconds)
        # The grown corpus (seeds included) measured as the suite measures the seeds alone.
        measured = coverage_report.measure(argparse.Namespace(bin=args.bin, corpus=str(out), source=str(source),
                                                              profdata=args.profdata, cov=args.cov),
                                           target, str(out), corpus_name=f"{target}.corpus", extra=HERE / "corpus" / target)
        result["coverage"] = {f: {"lines": round(v[0], 1), "branches": round(v[1], 1)} for f, v in measured.items()}
        print(json.dumps(result))
        with open(out / "summary.jsonl", "a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
