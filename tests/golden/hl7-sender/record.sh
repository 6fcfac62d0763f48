#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) sending HL7 v2 over MLLP (tests/tools/hl7_send.py) to a
# pharmacy's listener (10.77.0.10:2575, deploy/lib/mllp_listener.py, which acknowledges each
# message). Four connections: two orders (RDE^O11); an order then an ORM^O01; an ADT^A04 alone;
# an order whose sending application is not the cabinet's. Each message is sent in 60-byte
# segments. Recorded without netmon in the path: every message reached the listener.
# Needs root, tcpdump, python3. Run from this folder; review the capture before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_pair 10.77.0.10 52:54:00:77:00:10
rec_spawn vt-rec-s /usr/bin/python3 "$here/../../../deploy/lib/mllp_listener.py" 10.77.0.10 2575 "$rec_work/received.txt"
rec_wait_port vt-rec-s 2575
rec_capture
message() {  # TYPE CONTROL APPLICATION: an order for a made-up patient
  printf '%s' "MSH|^~\\&|$3|WARD3|PHARMACY|MAIN|20261127083000||$1|$2|P|2.5\\rPID|1||PAT-0042^^^HOSP^MR||DOE^JANE||19700101|F\\rRXE|1|AMOX500^Amoxicillin 500mg^LOCAL|500||mg\\r"
}
send() { ip netns exec vt-rec-g /usr/bin/python3 "$here/../../tools/hl7_send.py" 10.77.0.10 2575 60 "$@"; }
send "$(message 'RDE^O11^RDE_O11' ORD1 CABINET)" "$(message 'RDE^O11^RDE_O11' ORD2 CABINET)"
send "$(message 'RDE^O11^RDE_O11' ORD3 CABINET)" "$(message 'ORM^O01' ORM1 CABINET)"
send "$(message 'ADT^A04' ADT1 CABINET)"
send "$(message 'RDE^O11^RDE_O11' SPOOF1 NOT-THE-CABINET)"
rec_finish "$here/input.pcap"
