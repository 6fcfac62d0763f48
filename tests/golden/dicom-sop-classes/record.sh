#!/bin/bash
# Records input.pcap: a guest (10.77.0.2) and a worklist server (10.77.0.10, dcmtk's wlmscpfs
# as AE "WORKLIST" on port 104, with an empty worklist). The guest verifies its association
# with dcmtk's echoscu (the Verification SOP class), then queries the modality worklist with
# dcmtk's findscu (the Modality Worklist Information Model - FIND SOP class).
# Needs root, dcmtk, tcpdump. Run from this folder; review the capture before committing.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../record_lib.sh"
rec_pair 10.77.0.10 52:54:00:77:00:10
mkdir -p "$rec_work/wlm/WORKLIST"
touch "$rec_work/wlm/WORKLIST/lockfile"
rec_spawn vt-rec-s wlmscpfs --data-files-path "$rec_work/wlm" 104
rec_wait_port vt-rec-s 104
rec_capture
ip netns exec vt-rec-g echoscu --aetitle CABINET --call WORKLIST 10.77.0.10 104
ip netns exec vt-rec-g findscu --worklist --aetitle CABINET --call WORKLIST \
  --key "ScheduledProcedureStepSequence[0].Modality=CT" --key PatientName 10.77.0.10 104
rec_finish "$here/input.pcap"
