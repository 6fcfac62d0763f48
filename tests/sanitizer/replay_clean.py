#!/usr/bin/python3
"""Replays a capture (twice: with no policy, and under a policy) and fails on any sanitizer
report, crash or non-zero exit, or if replay did not read every packet of the file.

Usage: replay_clean.py NETMON CAPTURE POLICY
       replay_clean.py NETMON --garbage OUT.pcap POLICY   (writes the garbage capture first)
"""
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def read_capture(capture):
    """The packet count, and the first IPv4 sender's MAC and address (the guest to police)."""
    from scapy.all import IP, Ether, RawPcapReader, conf
    count, guest = 0, None
    reader = RawPcapReader(str(capture))  # pcap and pcapng
    linktype = getattr(reader, "linktype", 1)
    for data, _ in reader:
        count += 1
        if guest is None:
            try:
                p = (conf.l2types.get(linktype) or Ether)(data)
            except Exception:  # a frame too broken for scapy: not the guest's first packet
                continue
            if IP in p:
                mac = p[Ether].src if Ether in p else "52:54:00:00:00:01"
                guest = (mac, p[IP].src)
    reader.close()
    return count, guest


def policy_for(template, guest, workdir):
    """The template policy with the capture's own guest, so the policy paths see its traffic."""
    text = Path(template).read_text()
    if guest:
        text = re.sub(r'mac: "[^"]+"', f'mac: "{guest[0]}"', text, count=1)
        text = re.sub(r"ipv4: \S+", f"ipv4: {guest[1]}", text, count=1)
    path = Path(workdir) / "policy.yaml"
    path.write_text(text)
    return str(path)


def main():
    args = sys.argv[1:]
    netmon = args.pop(0)
    if args[0] == "--garbage":
        capture = Path(args[1])
        subprocess.run([sys.executable, str(HERE / "make_garbage_pcap.py"), str(capture)], check=True)
        policy = args[2]  # its guest is the one the garbage is written for
    else:
        capture, policy = Path(args[0]), args[1]
    expected, guest = read_capture(capture)
    workdir = tempfile.mkdtemp()
    policy = policy_for(policy, guest, workdir)
    failures = 0
    for extra in ([], ["--policy", policy]):
        cmd = [netmon, "replay", "--pcap", str(capture), "--flows", "/dev/null",
               "--events", "/dev/null"] + extra
        run = subprocess.run(cmd, capture_output=True, text=True)
        summary = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
        m = re.match(r"replay: (\d+) packets", summary)
        problems = []
        if run.returncode != 0:
            problems.append(f"exit code {run.returncode}")
        if re.search(r"runtime error|AddressSanitizer|LeakSanitizer", run.stderr):
            problems.append("sanitizer report")
        if not m or int(m.group(1)) != expected:
            problems.append(f"read {m.group(1) if m else '?'} of {expected} packets")
        label = "under policy" if extra else "allow-all"
        if problems:
            failures += 1
            print(f"{capture.name} ({label}): " + ", ".join(problems))
            print(run.stderr[-4000:])
        else:
            print(f"{capture.name} ({label}): {summary}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
