#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and an XP-era file server (10.77.0.10, Samba's smbd,
# SMB1 only: tests/tools/samba_server.py). In an anonymous session each, the transaction
# sequences of the MS17-010 exploit family, built byte by byte from [MS-CIFS]
# (tests/tools/smb_transactions.py: no exploit framework is packaged for Debian), and
# impacket's srvsvc calls that climb out of their directory on a context that is not the
# bind's first: one after five other contexts, one added by ALTER_CONTEXT.
# Needs root, samba, python3-impacket, tcpdump. Run from this folder; review before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_samba_console
rec_capture
tools="$here/../../tools"
for shape in nt-rename-then-secondary secondary-after-complete write-on-pending-mid secondary-beyond-total \
             nt-trans-by-trans2 secondary-other-kind transactions-over-bound; do
  ip netns exec vt-rec-g /usr/bin/python3 "$tools/smb_transactions.py" 10.77.0.10 "$shape"
done
ip netns exec vt-rec-g /usr/bin/python3 "$tools/smb_session.py" 10.77.0.10 CABINETDATA --ms08-067 --bogus-binds 5
ip netns exec vt-rec-g /usr/bin/python3 "$tools/smb_session.py" 10.77.0.10 CABINETDATA --ms08-067 --alter-context
grep -a "switch message" "$rec_work/samba/smbd.log" | awk '{print $3}' | sort | uniq -c
rec_finish "$here/input.pcap"
