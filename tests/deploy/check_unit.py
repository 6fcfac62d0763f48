#!/usr/bin/python3
"""The systemd unit through systemd's own checks: `systemd-analyze verify` (syntax, directives,
that ExecStart's program exists) must say nothing at all, and `systemd-analyze security` must
score its exposure below MAX_EXPOSURE.

Usage: check_unit.py UNIT_FILE [INSTANCE]   (a template unit is checked as UNIT@INSTANCE)
"""
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# systemd-analyze security scores exposure from 0 (locked down) to 10 (nothing restricted); from
# 4 on it calls a unit "MEDIUM". A root service on the network edge of a cabinet stays below.
MAX_EXPOSURE = 4.0


def verify(unit_file, instance="ward3-cabinet"):
    """Problems systemd-analyze reports, and the exposure score."""
    unit_file = Path(unit_file)
    problems = []
    with tempfile.TemporaryDirectory() as d:
        name = unit_file.name.replace("@.", f"@{instance}.") if "@." in unit_file.name else unit_file.name
        copy = Path(d) / name
        shutil.copy(unit_file, copy)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True)
        said = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or said:
            problems.append(f"systemd-analyze verify {name}: exit {r.returncode}: {said}")
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(copy)], capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        if not m:
            problems.append(f"systemd-analyze security gave no score: {r.stdout[-500:]} {r.stderr[-500:]}")
            return problems, None
        exposure = float(m.group(1))
        if exposure >= MAX_EXPOSURE:
            problems.append(f"exposure {exposure} is not below {MAX_EXPOSURE}:\n{r.stdout}")
    return problems, exposure


def main():
    problems, exposure = verify(*sys.argv[1:])
    for p in problems:
        print(p)
    print(f"{sys.argv[1]}: exposure {exposure}, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
