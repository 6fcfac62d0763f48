#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and a PACS (10.77.0.10, dcmtk's storescp as AE
# "PACS" on port 104). The guest verifies the association three times with dcmtk's echoscu —
# as CABINET calling PACS, as INTRUDER calling PACS, as CABINET calling ARCHIVE — then sends
# 80 bytes on 104 that start like an association request and are not one.
# Needs root, dcmtk, tcpdump, python3. Run from this folder; review the capture before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_pair 10.77.0.10 52:54:00:77:00:10
rec_spawn vt-rec-s storescp --aetitle PACS --output-directory "$rec_work" 104
rec_wait_port vt-rec-s 104
rec_capture
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
rec_finish "$here/input.pcap"
