"""The stand-in cabinet's hospital, in the lab's hospital namespace: the pharmacy's HL7
listener, the console's heartbeat port, an SMB listener the policy must keep the guest from,
and dnsmasq for the guest's DHCP lease and name lookups."""
import sys
from pathlib import Path

from vitrine_lab import GUEST_MAC, HOSP_IP, wait_for


def start_hospital(lab, workdir):
    """Starts the servers and waits until they listen; returns the file HL7 messages go to."""
    hl7 = Path(workdir) / "hl7.log"
    hl7.touch()
    ns = lab.hosp_ns
    lab.spawn([sys.executable, str(Path(__file__).parent / "mllp_listener.py"), HOSP_IP, "2575",
               str(hl7)], ns=ns)
    for port in (445, 5000):  # the file server's SMB, the console's heartbeats
        lab.spawn(["socat", f"TCP-LISTEN:{port},bind={HOSP_IP},reuseaddr,fork", "-"], ns=ns)
    lab.spawn(["dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", f"--listen-address={HOSP_IP}",
               "--bind-interfaces", "--address=/pharmacy.hospital.local/10.77.0.1",
               "--dhcp-range=10.77.0.2,10.77.0.2,255.255.255.0,1h",
               f"--dhcp-host={GUEST_MAC},10.77.0.2", f"--dhcp-option=6,{HOSP_IP}",
               f"--dhcp-leasefile={Path(workdir) / 'leases'}"], ns=ns)
    wait_for(lambda: lab.hosp(["ss", "-ltn"]).stdout.count(HOSP_IP) >= 3, 10, "the hospital's servers")
    return hl7
