#!/usr/bin/python3
"""vitrine's events against their documentation: deploy/observability/events/events.schema.json
(written by make_events_schema.py) and deploy/observability/EVENTS.md.

Usage:
  check_events.py REPO_ROOT catalog
      every event the code writes is in the schema and in EVENTS.md, and nothing else is; the
      schema file is what make_events_schema.py writes
  check_events.py REPO_ROOT validate FILE...
      every line of each JSON-lines file is an event the schema accepts
  check_events.py REPO_ROOT replay NETMON
      replays every golden capture with its policy and validates the events netmon writes
Exit 1 with each difference or invalid line listed.
"""
import collections
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema


def schema_table(root):
    sys.path.insert(0, str(root / "deploy" / "observability" / "events"))
    import make_events_schema  # noqa: E402 (the table lives beside the schema it writes)
    return make_events_schema


def events_in_code(root):
    """Event names as the code writes them, with where."""
    found = {}

    def add(name, path):
        found.setdefault(name, str(path.relative_to(root)))

    events_cpp = root / "netmon" / "src" / "events.cpp"
    for name in re.findall(r'return "([a-z0-9_]+)";', events_cpp.read_text()):
        add(name, events_cpp)
    for path in sorted((root / "hostd" / "src").glob("*.cpp")):
        text = path.read_text()
        for name in re.findall(r'record_?\("([a-z0-9_]*[a-z0-9])"', text):
            add(name, path)
        # Snapshot events are "snapshot_" + the action, one of those the request is checked against.
        if 'record("snapshot_" + action' in text:
            for action in re.findall(r'action != "([a-z]+)"', text):
                add("snapshot_" + action, path)
    for path in sorted((root / "passthrough" / "src").glob("*.cpp")):
        for name in re.findall(r'"((?:usb|serial)_[a-z_]+)"', path.read_text()):
            if name != "usb_device":  # udev's DEVTYPE for a whole device, not an event
                add(name, path)
    return found


def events_in_doc(root):
    text = (root / "deploy" / "observability" / "EVENTS.md").read_text()
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.M))


def catalog(root):
    table = schema_table(root)
    problems = []
    code = events_in_code(root)
    schema_names = set(table.EVENTS)
    doc = events_in_doc(root)
    for name, where in sorted(code.items()):
        if name not in schema_names:
            problems.append(f"{name} ({where}) is written but not in make_events_schema.py")
        if name not in doc:
            problems.append(f"{name} ({where}) is written but not in EVENTS.md")
    for name in sorted(schema_names - code.keys()):
        problems.append(f"{name} is in make_events_schema.py but no code writes it")
    for name in sorted(doc - code.keys()):
        problems.append(f"{name} is in EVENTS.md but no code writes it")
    on_disk = json.loads((root / "deploy" / "observability" / "events" / "events.schema.json").read_text())
    if on_disk != table.schema():
        problems.append("events.schema.json is not what make_events_schema.py writes: run it again")
    jsonschema.Draft202012Validator.check_schema(on_disk)
    # The schema must refuse what is wrong, or validating real events proves nothing.
    v = jsonschema.Draft202012Validator(on_disk)
    time = "2026-11-27T11:41:36.123456Z"
    wrong = {
        "an unknown event": {"time": time, "event": "guest_exploded"},
        "a field the event does not have": {"time": time, "event": "hostd_started", "pid": 1, "patient": "x"},
        "a required field missing": {"time": time, "event": "crash_loop", "restarts": 6},
        "a time that is not UTC microseconds": {"time": "2026-11-27 11:41", "event": "hostd_stopped"},
        "a patient identifier instead of its hash": dict(
            time=time, event="flow_denied", l4="TCP", src="10.0.0.2", sport=1, dst="10.0.0.1", dport=2575,
            direction="egress", protocol="HL7", rule="r", reason="x", patient_ref="MRN 12345"),
    }
    for what, event in wrong.items():
        if v.is_valid(event):
            problems.append(f"the schema accepts {what}: {event}")
    for p in problems:
        print(p)
    print(f"{len(code)} events in the code, {len(schema_names)} in the schema, {len(doc)} in EVENTS.md, "
          f"{len(problems)} problems")
    return 1 if problems else 0


def validator(root):
    schema = json.loads((root / "deploy" / "observability" / "events" / "events.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def validate_files(root, files):
    v = validator(root)
    seen = collections.Counter()
    problems = []
    for f in files:
        for number, line in enumerate(Path(f).read_text().splitlines(), 1):
            try:
                event = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{f}:{number}: not JSON: {e}")
                continue
            errors = sorted(v.iter_errors(event), key=lambda e: list(e.path))
            for e in errors:
                problems.append(f"{f}:{number}: {event.get('event')}: {'/'.join(map(str, e.path)) or '(event)'}: "
                                f"{e.message}")
            if not errors:
                seen[event["event"]] += 1
    for p in problems:
        print(p)
    print(f"{sum(seen.values())} events valid ({', '.join(f'{k} {n}' for k, n in sorted(seen.items()))}); "
          f"{len(problems)} problems")
    return seen, problems


def replay(root, netmon):
    files = []
    with tempfile.TemporaryDirectory() as out:
        for case in sorted((root / "tests" / "golden").iterdir()):
            if not (case / "input.pcap").exists():
                continue
            events = Path(out) / f"{case.name}.jsonl"
            args = (case / "replay.args").read_text().split() if (case / "replay.args").exists() else []
            subprocess.run([netmon, "replay", "--pcap", case / "input.pcap", "--policy", case / "policy.yaml",
                            "--flows", Path(out) / "flows.jsonl", "--events", events] + args,
                           check=True, stderr=subprocess.DEVNULL)
            files.append(events)
        seen, problems = validate_files(root, files)
    if not seen:
        print("the golden captures gave no events at all")
        return 1
    return 1 if problems else 0


def main():
    root = Path(sys.argv[1]).resolve()
    mode = sys.argv[2]
    if mode == "catalog":
        return catalog(root)
    if mode == "validate":
        _, problems = validate_files(root, sys.argv[3:])
        return 1 if problems else 0
    if mode == "replay":
        return replay(root, sys.argv[3])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
