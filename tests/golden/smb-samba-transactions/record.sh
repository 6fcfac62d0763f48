#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and an XP-era file server (10.77.0.10, Samba's smbd,
# SMB1 only, its buffer held to 2048 bytes: tests/tools/samba_server.py). Real clients whose
# requests the virtual patches must let through:
#   1. smbclient: allinfo of a path of 1,453 characters, whose TRANSACTION2 QUERY_PATH_INFO
#      does not fit the server's buffer and goes as a primary and a TRANSACTION2_SECONDARY;
#      then allinfo of a file that is there;
#   2. rpcclient: lookupnames of 300 names on the lsarpc pipe: the DCE/RPC request in three
#      fragments, two by WRITE_ANDX and the last by a TRANSACTION and its TRANSACTION_SECONDARY;
#   3. impacket: a srvsvc bind listing five other presentation contexts before srvsvc's, and a
#      NetprPathCanonicalize call with a path that stays where it is;
#   4. impacket: a bind of wkssvc (refused on this pipe), an ALTER_CONTEXT adding srvsvc, the
#      same call on that context;
#   5. a TransactNmPipe whose srvsvc bind its TRANSACTION_SECONDARY completes
#      (tests/tools/smb_transactions.py complete-with-secondary).
# Needs root, samba, smbclient, python3-impacket, tcpdump. Run from this folder; review before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_samba_console
rec_capture
tools="$here/../../tools"
long=$(for i in $(seq 1 110); do printf 'directory%03d\\' "$i"; done)formulary.txt
names=$(for i in $(seq 1 300); do printf 'user%03d ' "$i"; done)
ip netns exec vt-rec-g smbclient -U% -N --option='client min protocol=NT1' //10.77.0.10/CABINETDATA \
  -c "allinfo $long; allinfo formulary.txt" || true
ip netns exec vt-rec-g rpcclient -U% -N --option='client min protocol=NT1' 10.77.0.10 -c "lookupnames $names" || true
ip netns exec vt-rec-g /usr/bin/python3 "$tools/smb_session.py" 10.77.0.10 CABINETDATA --benign-path --bogus-binds 5
ip netns exec vt-rec-g /usr/bin/python3 "$tools/smb_session.py" 10.77.0.10 CABINETDATA --benign-path --alter-context
ip netns exec vt-rec-g /usr/bin/python3 "$tools/smb_transactions.py" 10.77.0.10 complete-with-secondary
grep -a "switch message" "$rec_work/samba/smbd.log" | awk '{print $3}' | sort | uniq -c
rec_finish "$here/input.pcap"
