#!/usr/bin/python3
"""The metrics catalog (deploy/observability/METRICS.md) against the code: every metric name the
sources give a Prometheus family (a quoted "vitrine_..." name) must be in the catalog, and every
metric the catalog names must be in the code; types are counter, gauge or histogram, and only
counters end in _total. The malformed reasons each inspector declares (<name>_malformed.h) are a
closed set: every one declared is in its file's kAll list (what the registration hands the
metrics) and in the catalog's table of reasons, and the table names no other.

Usage: check_metrics_catalog.py REPO_ROOT          (exit 1 with the differences listed)
       check_metrics_catalog.py REPO_ROOT --names  (the catalog's names, one per line)
"""
import re
import sys
from pathlib import Path

SOURCE_DIRS = ("common", "policies", "netmon", "images", "passthrough", "hostd")
ROW = re.compile(r"^\| `(vitrine_[a-z0-9_]+)` \| (\w+) \|")
REASON_ROW = re.compile(r"^\| ([A-Za-z0-9]+) \| `([a-z0-9_]+)` \| ")
DECLARED = re.compile(r'inline constexpr MalformedReason (k\w+)\{\s*"([^"]*)",\s*"([^"]*)"\}', re.S)


def catalog(root):
    rows = {}
    for line in (root / "deploy" / "observability" / "METRICS.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            if m.group(1) in rows:
                raise SystemExit(f"METRICS.md lists {m.group(1)} twice")
            rows[m.group(1)] = m.group(2)
    return rows


def in_code(root):
    names = {}
    for folder in SOURCE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".cpp", ".h"):
                for name in re.findall(r'"(vitrine_[a-z0-9_]+)"', path.read_text()):
                    names.setdefault(name, path.relative_to(root))
    return names


def malformed_reasons(root):
    """Problems between the declared malformed reasons, their kAll lists and the catalog."""
    problems, declared = [], set()
    for header in sorted((root / "netmon" / "inspectors").glob("*/*_malformed.h")):
        text = header.read_text()
        listed = re.search(r"kAll\[\] = \{([^}]*)\}", text)
        in_all = set(re.findall(r"&(k\w+)", listed.group(1))) if listed else set()
        for name, rid, _ in DECLARED.findall(text):
            declared.add(rid)
            if name not in in_all:
                problems.append(f"{header.relative_to(root)}: {name} ({rid}) is declared but not in kAll")
    table = set()
    for line in (root / "deploy" / "observability" / "METRICS.md").read_text().splitlines():
        m = REASON_ROW.match(line)
        if m:
            table.add(m.group(2))
    problems += [f"malformed reason {r} is declared but not in METRICS.md" for r in sorted(declared - table)]
    problems += [f"malformed reason {r} is in METRICS.md but no inspector declares it" for r in sorted(table - declared)]
    return problems


def main():
    root = Path(sys.argv[1]).resolve()
    rows = catalog(root)
    if "--names" in sys.argv:
        print("\n".join(sorted(rows)))
        return 0
    code = in_code(root)
    problems = [f"{name} ({where}) is exported but not in METRICS.md" for name, where in sorted(code.items())
                if name not in rows]
    problems += [f"{name} is in METRICS.md but no code exports it" for name in sorted(rows) if name not in code]
    for name, kind in sorted(rows.items()):
        if kind not in ("counter", "gauge", "histogram"):
            problems.append(f"{name}: type '{kind}' is not counter, gauge or histogram")
        if (kind == "counter") != name.endswith("_total"):
            problems.append(f"{name}: a {kind}{' must' if kind == 'counter' else ' must not'} end in _total")
    problems += malformed_reasons(root)
    for p in problems:
        print(p)
    print(f"{len(rows)} metrics in the catalog, {len(code)} in the code, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
