#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) opening two TLS sessions to a console server
# (10.77.0.10) named console.ward3.local; the client offers TLS 1.0 to 1.3 each time. The
# server on 4431 speaks TLS 1.1 at most, the one on 4432 TLS 1.2 at most.
# Needs root, openssl and tcpdump. Run from this folder; review the capture before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_pair 10.77.0.10 52:54:00:77:00:10
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$rec_work/key.pem" -out "$rec_work/cert.pem" -days 3650 \
  -subj "/CN=console.ward3.local" 2>/dev/null
# TLS 1.0 and 1.1 need security level 0 in OpenSSL 3, on both ends.
rec_spawn vt-rec-s openssl s_server -quiet -accept 4431 -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' \
  -cert "$rec_work/cert.pem" -key "$rec_work/key.pem"
rec_spawn vt-rec-s openssl s_server -quiet -accept 4432 -tls1_2 -cipher 'DEFAULT@SECLEVEL=0' \
  -cert "$rec_work/cert.pem" -key "$rec_work/key.pem"
rec_wait_port vt-rec-s 4431
rec_wait_port vt-rec-s 4432
rec_capture
for port in 4431 4432; do
  echo | ip netns exec vt-rec-g timeout 5 openssl s_client -connect 10.77.0.10:$port \
    -servername console.ward3.local -cipher 'DEFAULT@SECLEVEL=0' >/dev/null 2>&1 || true
done
rec_finish "$here/input.pcap"
