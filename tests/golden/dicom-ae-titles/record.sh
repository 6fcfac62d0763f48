#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and a PACS (10.77.0.10, dcmtk's storescp as AE
# "PACS" on port 104). The guest verifies the association three times with dcmtk's echoscu —
# as CABINET calling PACS, as INTRUDER calling PACS, as CABINET calling ARCHIVE — then sends
# 80 bytes on 104 that start like an association request and are not one.
# Needs root, dcmtk, tcpdump, python3. Run from this folder; review the capture before committing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'ip netns del vt-rec-g 2>/dev/null || true; ip netns del vt-rec-s 2>/dev/null || true; rm -rf "$work"' EXIT
ip netns add vt-rec-g
ip netns add vt-rec-s
ip link add vt-rec-g0 address 52:54:00:77:00:02 netns vt-rec-g type veth peer name vt-rec-s0 address 52:54:00:77:00:10 netns vt-rec-s
ip -n vt-rec-g addr add 10.77.0.2/24 dev vt-rec-g0
ip -n vt-rec-s addr add 10.77.0.10/24 dev vt-rec-s0
ip -n vt-rec-g link set vt-rec-g0 up
ip -n vt-rec-s link set vt-rec-s0 up
ip netns exec vt-rec-s storescp --aetitle PACS --output-directory "$work" 104 >/dev/null 2>&1 &
for _ in $(seq 50); do ip netns exec vt-rec-s ss -ltn | grep -q ":104 " && break; sleep 0.1; done
ip netns exec vt-rec-g tcpdump --immediate-mode -U -i vt-rec-g0 -w "$work/cap.pcap" tcp 2>"$work/tcpdump.err" &
dump=$!
for _ in $(seq 50); do grep -q "listening on" "$work/tcpdump.err" && break; sleep 0.1; done
for titles in "CABINET PACS" "INTRUDER PACS" "CABINET ARCHIVE"; do
  set -- $titles
  ip netns exec vt-rec-g echoscu --aetitle "$1" --call "$2" 10.77.0.10 104 >/dev/null 2>&1 || true
done
ip netns exec vt-rec-g python3 -c '
import socket
s = socket.create_connection(("10.77.0.10", 104), timeout=3)
s.sendall(b"\x01\x00\x00\x00\x00\x4a" + b"\x00\x01\x00\x00" + b"not an AE title\x07" * 4 + bytes(10))
try: s.recv(100)
except OSError: pass
' || true
kill -INT "$dump"; wait "$dump" 2>/dev/null || true
pkill -f "storescp --aetitle PACS" || true
cp "$work/cap.pcap" "$here/input.pcap"
echo "wrote $here/input.pcap"
