#!/usr/bin/python3
"""The metrics catalog (deploy/observability/METRICS.md) against the code: every metric name the
sources give a Prometheus family (a quoted "vitrine_..." name) must be in the catalog, and every
metric the catalog names must be in the code; types are counter, gauge or histogram, and only
counters end in _total.

Usage: check_metrics_catalog.py REPO_ROOT          (exit 1 with the differences listed)
       check_metrics_catalog.py REPO_ROOT --names  (the catalog's names, one per line)
"""
import re
import sys
from pathlib import Path

SOURCE_DIRS = ("common", "policies", "netmon", "images", "passthrough", "hostd")
ROW = re.compile(r"^\| `(vitrine_[a-z0-9_]+)` \| (\w+) \|")


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
    for p in problems:
        print(p)
    print(f"{len(rows)} metrics in the catalog, {len(code)} in the code, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
