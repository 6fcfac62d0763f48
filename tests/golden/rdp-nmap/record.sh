#!/bin/bash
# Records input.pcap: nmap's rdp-enum-encryption and rdp-ntlm-info scripts, run from a support
# host (10.77.0.1) against the guest's RDP server stand-in (10.77.0.2, tests/tools/rdp_probe.py,
# which confirms standard RDP security and listens): real scanner traffic for the RDP reader.
# Needs root, nmap, tcpdump, python3. Run from this folder; review before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_pair 10.77.0.1 52:54:00:77:00:01
rec_spawn vt-rec-g python3 "$here/../../tools/rdp_probe.py" server 10.77.0.2 3389 "$rec_work/received.hex"
rec_wait_port vt-rec-g 3389
rec_capture
ip netns exec vt-rec-s timeout 120 nmap -Pn -n -p3389 --script rdp-enum-encryption,rdp-ntlm-info \
  --script-timeout 60s 10.77.0.2 | grep -E "3389|rdp|Security|RDP" || true
rec_finish "$here/input.pcap"
