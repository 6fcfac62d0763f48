#!/usr/bin/python3
"""Holds the tests and benchmarks to deploy/lib/lab_ports.py: no port in the test range
(19000-19999) written anywhere but that table, and no port of the table owned twice.

Usage: check_lab_ports.py ROOT
"""
import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(ROOT / "deploy" / "lib"))
import lab_ports  # noqa: E402  (its own assertion: no port owned twice)

LITERAL = re.compile(r"(?<![\w.])19\d{3}(?![\w.])")
problems = []
for f in sorted(list((ROOT / "tests").rglob("*.py")) + list((ROOT / "deploy").rglob("*.py"))):
    if f.name in ("lab_ports.py", "check_lab_ports.py") or "golden" in f.parts:
        continue
    for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
        if LITERAL.search(line.split("#", 1)[0]):
            problems.append(f"{f.relative_to(ROOT)}:{n}: a test port outside lab_ports.py: {line.strip()}")
print("\n".join(problems) if problems else f"{len(lab_ports.PORTS)} ports, each with one owner; none written elsewhere")
sys.exit(1 if problems else 0)
