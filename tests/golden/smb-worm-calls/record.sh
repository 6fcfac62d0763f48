#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and an XP-era file server (10.77.0.10, Samba's smbd,
# SMB1 only: tests/tools/samba_server.py). Four anonymous sessions, each one DCE/RPC call with
# python3-impacket (tests/tools/rpc_call.py): on the lsarpc pipe, dssetup's
# DsRolerGetPrimaryDomainInformation (benign) and DsRolerUpgradeDownlevelServer with a string
# of 2,000 characters (Sasser's call, MS04-011); on the ntsvcs pipe, Plug and Play's
# PNP_GetVersion (benign) and PNP_QueryResConfList with a 100-character device (Zotob's, MS05-039).
# Needs root, samba, python3-impacket, tcpdump. Run from this folder; review before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_samba_console
rec_capture
call="$here/../../tools/rpc_call.py"
dssetup=3919286a-b10c-11d0-9ba8-00c04fd92ef5:0.0
pnp=8d9f4e40-a03d-11ce-8f69-08003e30051b:1.0
ip netns exec vt-rec-g /usr/bin/python3 "$call" 10.77.0.10 '\lsarpc' "$dssetup" 0 --stub 0100
ip netns exec vt-rec-g /usr/bin/python3 "$call" 10.77.0.10 '\lsarpc' "$dssetup" 9 --string 2000
ip netns exec vt-rec-g /usr/bin/python3 "$call" 10.77.0.10 '\ntsvcs' "$pnp" 2
ip netns exec vt-rec-g /usr/bin/python3 "$call" 10.77.0.10 '\ntsvcs' "$pnp" 54 --string 100
rec_finish "$here/input.pcap"
