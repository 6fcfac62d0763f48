#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) polling a refrigerator monitor's Modbus/TCP gateway
# (10.77.0.20, pymodbus's server on port 502, tests/tools/modbus_peer.py). Two connections:
# the first reads holding registers, then reads one the gateway does not have (an exception
# answer); the second reads, then writes a register.
# Needs root, python3-pymodbus, tcpdump. Run from this folder; review the capture before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_pair 10.77.0.20 52:54:00:77:00:20
rec_spawn vt-rec-s /usr/bin/python3 "$rec_tools/modbus_peer.py" server 502
rec_wait_port vt-rec-s 502
rec_capture
ip netns exec vt-rec-g /usr/bin/python3 "$rec_tools/modbus_peer.py" client 10.77.0.20 502 read read-past
ip netns exec vt-rec-g /usr/bin/python3 "$rec_tools/modbus_peer.py" client 10.77.0.20 502 read write
rec_finish "$here/input.pcap"
