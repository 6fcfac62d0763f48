#!/usr/bin/python3
"""Runs one golden case: replay its capture under its policy, compare flows and events.

Usage: run_case.py NETMON_BINARY CASE_DIR

CASE_DIR holds input.pcap, policy.yaml (optional: without it replay allows everything),
expected.jsonl and a README saying where the capture came from. Each expected line is a flow
({"record": "flow", ...}) or an event ({"record": "event", ...}) with its time and its
patient reference masked (the reference is keyed anew by each netmon); order does not matter.
An optional never.txt lists strings (patient data) that no flow or event may contain. An optional
replay.args holds more arguments for replay, such as `--checksums ignore` for a capture taken on a
host that left its checksums to the NIC (its README says so). With VITRINE_REGENERATE=1 the expectation is rewritten instead of checked:
review the diff before committing it.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def canonical(records):
    return sorted(json.dumps(r, sort_keys=True) for r in records)


def replay_args(case):
    path = case / "replay.args"
    return path.read_text().split() if path.exists() else []


def observe(netmon, case):
    with tempfile.TemporaryDirectory() as tmp:
        flows, events = Path(tmp) / "flows.jsonl", Path(tmp) / "events.jsonl"
        cmd = [netmon, "replay", "--pcap", str(case / "input.pcap"),
               "--flows", str(flows), "--events", str(events)]
        if (case / "policy.yaml").exists():
            cmd += ["--policy", str(case / "policy.yaml")]
        cmd += replay_args(case)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        records = []
        for line in flows.read_text().splitlines():
            records.append({"record": "flow", **json.loads(line)})
        for line in events.read_text().splitlines():
            event = json.loads(line)
            event["time"] = "*"
            if "patient_ref" in event:
                event["patient_ref"] = "*"
            records.append({"record": "event", **event})
        written = flows.read_text() + events.read_text()
    never = case / "never.txt"
    leaked = [s for s in (never.read_text().splitlines() if never.exists() else []) if s and s in written]
    return canonical(records), leaked


def main():
    netmon, case = sys.argv[1], Path(sys.argv[2])
    got, leaked = observe(netmon, case)
    if leaked:
        print(f"{case.name}: flows or events contain what they must never contain: {leaked}")
        return 1
    expected_path = case / "expected.jsonl"
    if os.environ.get("VITRINE_REGENERATE") == "1":
        expected_path.write_text("".join(line + "\n" for line in got))
        print(f"{case.name}: wrote {len(got)} records")
        return 0
    expected = canonical(json.loads(l) for l in expected_path.read_text().splitlines() if l.strip())
    if got == expected:
        print(f"{case.name}: {len(got)} records as expected")
        return 0
    print(f"{case.name}: replay differs from expected.jsonl")
    for line in sorted(set(expected) - set(got)):
        print(f"  missing:    {line}")
    for line in sorted(set(got) - set(expected)):
        print(f"  unexpected: {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
