#!/bin/bash
# Records input.pcap: a support host (10.77.0.1) opens two RDP connections with standard RDP
# security to the guest (10.77.0.2), whose RDP server is tests/tools/rdp_probe.py: the first
# asks for the channels rdpdr and cliprdr, the second for rdpdr and MS_T120, as a BlueKeep
# exploit does. Needs root, tcpdump, python3. Run from this folder; review before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
probe="$here/../../tools/rdp_probe.py"
rec_pair 10.77.0.1 52:54:00:77:00:01
rec_spawn vt-rec-g python3 "$probe" server 10.77.0.2 3389 "$rec_work/received.hex"
rec_wait_port vt-rec-g 3389
rec_capture
ip netns exec vt-rec-s python3 "$probe" client 10.77.0.2 3389 rdpdr cliprdr
ip netns exec vt-rec-s python3 "$probe" client 10.77.0.2 3389 rdpdr MS_T120
rec_finish "$here/input.pcap"
