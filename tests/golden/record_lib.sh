# Sourced by the golden cases' record.sh scripts: the topology they record in. The guest is
# namespace vt-rec-g (10.77.0.2, 52:54:00:77:00:02), its peer vt-rec-s; one veth pair joins
# them. Everything is removed on exit, with the processes started by rec_spawn.
#   rec_pair PEER_IP PEER_MAC      create the namespaces and the link
#   rec_spawn NS CMD...            start CMD in NS in the background
#   rec_wait_port NS PORT          until something listens on TCP PORT in NS
#   rec_smb_console                the peer is the console (10.77.0.10), impacket's smbserver
#                                  with the share CABINETDATA (tests/tools/smb_server.py)
#   rec_samba_console              the peer is the console (10.77.0.10), Samba's smbd, SMB1 only,
#                                  with the share CABINETDATA (tests/tools/samba_server.py)
#   rec_capture                    start tcpdump on the guest's side; returns once it captures
#   rec_finish OUT.pcap            stop the capture and write it to OUT.pcap
set -euo pipefail
rec_tools=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)
rec_work=$(mktemp -d)
rec_pids=()
rec_cleanup() {
  for pid in "${rec_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns pids vt-rec-g 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns pids vt-rec-s 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del vt-rec-g 2>/dev/null || true
  ip netns del vt-rec-s 2>/dev/null || true
  rm -rf "$rec_work"
}
trap rec_cleanup EXIT

rec_pair() {
  ip netns add vt-rec-g
  ip netns add vt-rec-s
  ip link add vt-rec-g0 address 52:54:00:77:00:02 netns vt-rec-g type veth peer name vt-rec-s0 address "$2" netns vt-rec-s
  ip -n vt-rec-g addr add 10.77.0.2/24 dev vt-rec-g0
  ip -n vt-rec-s addr add "$1/24" dev vt-rec-s0
  ip -n vt-rec-g link set vt-rec-g0 up
  ip -n vt-rec-s link set vt-rec-s0 up
  ip -n vt-rec-g link set lo up  # servers that talk to themselves (impacket's RPC) need it
  ip -n vt-rec-s link set lo up
}

rec_spawn() {
  local ns=$1; shift
  ip netns exec "$ns" "$@" >/dev/null 2>&1 &
  rec_pids+=($!)
}

rec_wait_port() {
  for _ in $(seq 50); do ip netns exec "$1" ss -ltn | grep -q ":$2 " && return 0; sleep 0.1; done
  echo "nothing listens on $2 in $1" >&2
  return 1
}

rec_smb_console() {
  mkdir -p "$rec_work/share" && echo "formulary" > "$rec_work/share/formulary.txt"
  rec_pair 10.77.0.10 52:54:00:77:00:10
  rec_spawn vt-rec-s /usr/bin/python3 "$rec_tools/smb_server.py" CABINETDATA "$rec_work/share"
  rec_wait_port vt-rec-s 445
}

rec_samba_console() {
  mkdir -p "$rec_work/share" && echo "formulary" > "$rec_work/share/formulary.txt"
  rec_pair 10.77.0.10 52:54:00:77:00:10
  rec_spawn vt-rec-s /usr/bin/python3 "$rec_tools/samba_server.py" "$rec_work/samba" CABINETDATA "$rec_work/share" 10.77.0.10
  rec_wait_port vt-rec-s 445
}

rec_capture() {
  ip netns exec vt-rec-g tcpdump --immediate-mode -U -i vt-rec-g0 -w "$rec_work/cap.pcap" tcp 2>"$rec_work/tcpdump.err" &
  rec_dump=$!
  for _ in $(seq 50); do grep -q "listening on" "$rec_work/tcpdump.err" && return 0; sleep 0.1; done
  echo "tcpdump did not start" >&2
  return 1
}

rec_finish() {
  kill -INT "$rec_dump"
  wait "$rec_dump" 2>/dev/null || true  # -U: every packet is already written
  cp "$rec_work/cap.pcap" "$1"
  echo "wrote $1"
}
