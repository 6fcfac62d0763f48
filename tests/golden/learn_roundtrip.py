#!/usr/bin/python3
"""`vitrine policy learn` then `vitrine policy test` on the same capture: the draft loads with no
warnings, and every flow of the capture that involves the guest is allowed by a learned rule.

Usage: learn_roundtrip.py VITRINE CAPTURE GUEST_IP GUEST_MAC
"""
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    vitrine, capture, ip, mac = sys.argv[1:5]
    draft = subprocess.run([vitrine, "policy", "learn", "--pcap", capture, "--guest", ip, "--guest-mac", mac],
                           capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "learned.yaml"
        # The round trip is about the allowlist: the virtual patches (which cut the capture's
        # DoublePulsar ping whatever the rules say) are set aside for it.
        policy.write_text(draft + "virtualPatches: {ms17-010: off, ms08-067: off, cve-2019-0708: off, ms06-040: off, ms04-011: off, ms05-039: off}\n")
        check = subprocess.run([vitrine, "policy", "check", str(policy)], capture_output=True, text=True)
        assert check.returncode == 0 and "warning" not in check.stderr, check.stderr
        test = subprocess.run([vitrine, "policy", "test", str(policy), "--pcap", capture],
                              capture_output=True, text=True, check=True).stdout.splitlines()
    flows = [l.split() for l in test if l.startswith(("TCP", "UDP", "ICMP"))]
    assert flows, "the capture produced no flow under the learned policy"
    bad = [f for f in flows if f[5] != "allow" or not f[6].startswith("learned-")]  # l4 src -> dst protocol verdict rule
    assert not bad, f"flows the learned policy does not allow: {bad}"
    print(f"learned {draft.count('- name: learned-')} rules; {len(flows)} flows allowed by them")


if __name__ == "__main__":
    main()
