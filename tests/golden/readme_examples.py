#!/usr/bin/python3
"""The rule examples in policies/README.md load: each ```yaml block that starts with a rule
('  - name:') or a policy section (rules, virtualPatches) is put under a policy header and
given to `vitrine policy check`.

Usage: readme_examples.py VITRINE_BINARY README
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = """apiVersion: vitrine/v1
name: readme-example
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
defaultAction: deny
sets: {dns: [10.0.0.53], console: [10.0.0.10], pharmacy-hl7: [10.0.0.5], pharmacy-db: [10.0.0.6]}
"""


def main():
    vitrine, readme = sys.argv[1], Path(sys.argv[2])
    blocks = re.findall(r"```yaml\n(.*?)```", readme.read_text(), re.S)
    rule_blocks = [b for b in blocks if b.startswith(("  - name:", "rules:\n", "virtualPatches:\n"))]
    if not rule_blocks:
        print("no rule examples found: the README changed shape")
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, block in enumerate(rule_blocks):
            path = Path(tmp) / f"example-{i}.yaml"
            path.write_text(HEADER + ("rules:\n" if block.startswith("  - name:") else "") + block)
            r = subprocess.run([vitrine, "policy", "check", str(path)], capture_output=True, text=True)
            if r.returncode != 0:
                failed += 1
                print(f"example {i} does not load:\n{block}\n{r.stderr}")
    print(f"{len(rule_blocks) - failed} of {len(rule_blocks)} rule examples load")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
