#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and a file server (10.77.0.10, python3-impacket's
# smbserver with the share CABINETDATA and srvsvc on the BROWSER pipe: tests/tools/smb_server.py).
# The guest runs nmap's smb-vuln-ms17-010 and smb-vuln-ms08-067 scripts against it, then an
# SMB1 session with impacket (tests/tools/smb_session.py) that lists the share and calls srvsvc
# NetprPathCanonicalize with a path that climbs out (MS08-067).
# Needs root, nmap, python3-impacket, tcpdump. Run from this folder; review before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_smb_console
rec_capture
ip netns exec vt-rec-g nmap -Pn -n -p445 --script smb-vuln-ms17-010 10.77.0.10 | grep -E "445/tcp|VULNERABLE|smb-vuln" || true
# The stand-in answers NetprPathCompare, so nmap reports it "LIKELY VULNERABLE": nothing is.
ip netns exec vt-rec-g nmap -Pn -n -p445 --script smb-vuln-ms08-067 10.77.0.10 | grep -E "445/tcp|VULNERABLE|State|smb-vuln" || true
ip netns exec vt-rec-g /usr/bin/python3 "$here/../../tools/smb_session.py" 10.77.0.10 CABINETDATA --ms08-067
rec_finish "$here/input.pcap"
