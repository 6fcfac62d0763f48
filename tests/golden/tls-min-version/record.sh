#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) opening two TLS sessions to a console server
# (10.77.0.10) named console.ward3.local; the client offers TLS 1.0 to 1.3 each time. The
# server on 4431 speaks TLS 1.1 at most, the one on 4432 TLS 1.2 at most.
# Needs root, openssl and tcpdump. Run from this folder; review the capture before committing.
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
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 3650 \
  -subj "/CN=console.ward3.local" 2>/dev/null
# TLS 1.0 and 1.1 need security level 0 in OpenSSL 3, on both ends.
for spec in "4431 -tls1_1" "4432 -tls1_2"; do
  set -- $spec
  ip netns exec vt-rec-s openssl s_server -quiet -accept "$1" "$2" -cipher 'DEFAULT@SECLEVEL=0' \
    -cert "$work/cert.pem" -key "$work/key.pem" </dev/null >/dev/null 2>&1 &
done
ip netns exec vt-rec-g tcpdump --immediate-mode -U -i vt-rec-g0 -w "$work/cap.pcap" tcp 2>"$work/tcpdump.err" &
dump=$!
for port in 4431 4432; do
  for _ in $(seq 50); do ip netns exec vt-rec-s ss -ltn | grep -q ":$port " && break; sleep 0.1; done
done
for _ in $(seq 50); do grep -q "listening on" "$work/tcpdump.err" && break; sleep 0.1; done
for port in 4431 4432; do
  echo | ip netns exec vt-rec-g timeout 5 openssl s_client -connect 10.77.0.10:$port \
    -servername console.ward3.local -cipher 'DEFAULT@SECLEVEL=0' >/dev/null 2>&1 || true
done
kill -INT "$dump"; wait "$dump" 2>/dev/null || true  # -U: every packet is already written
pkill -f "openssl s_server -quiet -accept 443[12]" || true
cp "$work/cap.pcap" "$here/input.pcap"
echo "wrote $here/input.pcap"
