#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and a file server (10.77.0.10, python3-impacket's
# smbserver with srvsvc on its pipe: tests/tools/smb_session.py's peer, tests/tools/smb_server.py).
# The guest makes four SMB1 sessions with impacket, each a srvsvc NetprPathCanonicalize call
# whose DCE/RPC request impacket cuts into 16-byte fragments, each written to the pipe on its
# own: a path that stays, the same fragmented into 64-byte ones, a path that climbs out
# (MS08-067), and a path longer than MAX_PATH (MS06-040).
# Needs root, python3-impacket, tcpdump. Run from this folder; review before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_smb_console
rec_capture
session="$here/../../tools/smb_session.py"
ip netns exec vt-rec-g /usr/bin/python3 "$session" 10.77.0.10 CABINETDATA --benign-path --fragment 16
ip netns exec vt-rec-g /usr/bin/python3 "$session" 10.77.0.10 CABINETDATA --benign-path --fragment 64
ip netns exec vt-rec-g /usr/bin/python3 "$session" 10.77.0.10 CABINETDATA --ms08-067 --fragment 16
ip netns exec vt-rec-g /usr/bin/python3 "$session" 10.77.0.10 CABINETDATA --long-path --fragment 16
rec_finish "$here/input.pcap"
