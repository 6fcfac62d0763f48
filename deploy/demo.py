#!/usr/bin/python3
"""The demo topology: a stand-in cabinet and a stand-in hospital network in network namespaces,
with real servers, joined only through netmon under a shipped policy. It shows allowed and
blocked traffic, where the metrics are, and a summary, then removes everything it made.

Usage: demo.py --netmon BINARY [--policy FILE] [--metrics-port N] [--keep]
"""
import argparse
import json
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from vitrine_lab import GUEST_IP, GUEST_MAC, HOSP_IP, HOSP_MAC, Lab, metric, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONNECT = ("import socket,sys,time\n"
           "s=socket.socket(); s.settimeout(10); t=time.monotonic()\n"
           "try:\n s.connect((sys.argv[1],int(sys.argv[2]))); r='connected'\n"
           "except Exception as e: r=type(e).__name__\n"
           "print(r, round((time.monotonic()-t)*1000, 1))\n")
SPOOF = ("import socket,struct\n"
         "ip=struct.pack('!BBHHHBBH4s4s',0x45,0,28,1,0,64,17,0,socket.inet_aton('10.77.0.66'),"
         "socket.inet_aton('%s'))\n"
         "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW); s.bind(('eth0',0))\n"
         "s.send(bytes.fromhex('%s')+bytes.fromhex('%s')+b'\\x08\\x00'+ip+struct.pack('!HHHH',1,9,8,0))\n"
         % (HOSP_IP, HOSP_MAC.replace(":", ""), GUEST_MAC.replace(":", "")))


def say(verdict, what, detail):
    print(f"  [{verdict:7}] {what:44} {detail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netmon", required=True)
    ap.add_argument("--policy", default=str(ROOT / "policies" / "shipped" / "demo-cabinet.yaml"))
    ap.add_argument("--metrics-port", type=int, default=9464)
    ap.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vitrine-demo-"))
    events = work / "events.jsonl"
    (work / "www").mkdir()
    (work / "www" / "formulary.txt").write_text("amoxicillin 500mg capsule\nparacetamol 1g tablet\n")
    lab = Lab("vtrdemo")
    try:
        lab.create()
        print(f"vitrine demo: cabinet {GUEST_IP} and hospital network {HOSP_IP}, joined only through netmon")
        lab.spawn([sys.executable, "-m", "http.server", "8080", "--bind", HOSP_IP,
                   "--directory", str(work / "www")], ns=lab.hosp_ns)
        lab.spawn(["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", f"--listen-address={HOSP_IP}",
                   "--bind-interfaces", "--address=/pharmacy.hospital.local/10.77.0.50"], ns=lab.hosp_ns)
        for port in (445, 22):
            lab.spawn(["socat", f"TCP-LISTEN:{port},bind={HOSP_IP},reuseaddr,fork", "-"], ns=lab.hosp_ns)
        wait_for(lambda: lab.hosp(["ss", "-ltn"]).stdout.count(HOSP_IP) >= 3, 10, "the hospital's servers")
        wait_for(lambda: HOSP_IP in lab.hosp(["ss", "-lun"]).stdout, 10, "the DNS server")
        lab.start_netmon(args.netmon, args.policy, events, args.metrics_port)
        print(f"  policy   {args.policy}")
        print(f"  metrics  http://127.0.0.1:{args.metrics_port}/metrics")
        print(f"  events   {events}")
        print()

        r = lab.guest(["dig", "+short", "+time=3", "+tries=1", f"@{HOSP_IP}", "pharmacy.hospital.local"], check=False)
        say("allowed" if r.stdout.strip() else "FAILED", "DNS lookup pharmacy.hospital.local", r.stdout.strip() or r.stderr.strip())
        r = lab.guest(["curl", "-sS", "--max-time", "5", f"http://{HOSP_IP}:8080/formulary.txt"], check=False)
        say("allowed" if r.returncode == 0 else "FAILED", "HTTP GET the formulary (rule: HTTP only)", f"{len(r.stdout)} bytes")
        r = lab.guest(["ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", HOSP_IP], check=False)
        rtt = next((l.split("=")[1].strip() for l in r.stdout.splitlines() if "rtt" in l), "no reply")
        say("allowed" if r.returncode == 0 else "FAILED", "ping the gateway", f"rtt min/avg/max/mdev {rtt}")
        for port, what in ((445, "SMB connect to the file server (tcp/445)"), (22, "SSH connect (tcp/22, not in the policy)")):
            out = lab.guest([sys.executable, "-c", CONNECT, HOSP_IP, str(port)]).stdout.split()
            say("blocked" if out[0] == "ConnectionRefusedError" else "FAILED", what, f"reset by netmon after {out[1]} ms")
        lab.guest([sys.executable, "-c", SPOOF])
        m = wait_for(lambda: (lambda s: s if metric(s, "vitrine_netmon_layer2_dropped_packets_total",
                                                    reason="spoofed_ip") else None)(
            lab.scrape(args.metrics_port)), 5, "the metrics to show the spoofed frame")
        say("blocked", "frame with a spoofed source IP (10.77.0.66)", "dropped by the layer-2 police")
        print("\nsummary (from the metrics endpoint):")
        for d in ("egress", "ingress"):
            print(f"  frames {d:8} allowed {int(metric(m, 'vitrine_netmon_packets_total', direction=d, verdict='allow')):5}"
                  f"   denied {int(metric(m, 'vitrine_netmon_packets_total', direction=d, verdict='deny')):5}")
        hits = sorted(((dict(l)["rule"], dict(l)["action"], v) for (n, l), v in m.items()
                       if n == "vitrine_netmon_rule_hits_total"), key=lambda h: -h[2])
        for rule, action, v in hits:
            print(f"  rule {rule:28} {action:6} {int(v)} flow(s)")
        print(f"  layer-2 drops {int(metric(m, 'vitrine_netmon_layer2_dropped_packets_total'))}, "
              f"TCP resets sent {int(metric(m, 'vitrine_netmon_tcp_resets_sent_total'))}")
        print("\nevents:")
        for line in events.read_text().splitlines():
            e = json.loads(line)
            print(f"  {e['event']:17} {e.get('l4', ''):4} {e.get('src', '')}:{e.get('sport', '')} -> "
                  f"{e.get('dst', '')}:{e.get('dport', '')}  rule={e.get('rule', '')} reason={e.get('reason', '')}")
        if args.keep:
            print(f"\nnetmon keeps running; try: curl -s http://127.0.0.1:{args.metrics_port}/metrics | grep vitrine_ ;"
                  f" Ctrl-C to stop and clean up")
            signal.sigwait([signal.SIGINT, signal.SIGTERM])
    finally:
        lab.destroy()
        shutil.rmtree(work, ignore_errors=True)
        print("\ncleaned up: namespaces, interfaces, servers and files removed")


if __name__ == "__main__":
    main()
