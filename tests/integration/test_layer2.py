#!/usr/bin/python3
"""Layer-2 police with real DHCP and ARP: the guest may be a DHCP client, never a server, and
may only claim its own address in ARP.

Usage: test_layer2.py NETMON_BINARY [ring|pcap]   (as root)
"""
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import GUEST_IP, GUEST_MAC, HOSP_IP, metric, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

POLICY = Path(__file__).resolve().parent / "policy-dhcp.yaml"
METRICS_PORT = port("integration.layer2")

# A gratuitous ARP reply from the guest's MAC claiming `ip`, sent below the guest's stack.
ARP_CLAIM = r"""
import socket, struct, sys
ip, mac = sys.argv[1], bytes(int(x, 16) for x in sys.argv[2].split(":"))
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac, socket.inet_aton(ip),
                  b"\xff" * 6, socket.inet_aton(ip))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
"""


# A DHCP server's answer, as a rogue server on the guest would broadcast it.
OFFER = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("0.0.0.0", 67))
offer = bytes.fromhex("02010600") + bytes(236) + bytes.fromhex("63825363350102ff")
s.sendto(offer, ("255.255.255.255", 68))
"""


class Layer2Test(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vtl", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        # Start from no address: the guest is to get it from the hospital's DHCP server.
        cls.lab.guest(["ip", "addr", "flush", "dev", "eth0"])

    def udhcpc(self, ns):
        """One DHCP exchange from namespace `ns`; the leased address, or None."""
        r = self.lab.in_ns(ns, ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-s", "/bin/true",
                                "-t", "3", "-T", "1", "-A", "1"], check=False)
        for line in (r.stdout + r.stderr).splitlines():
            if "lease of" in line and "obtained" in line:
                return line.split("lease of")[1].split()[0]
        return None

    def test_1_guest_obtains_its_address_as_a_dhcp_client(self):
        server = self.lab.spawn(["dnsmasq", "--no-daemon", "--port=0", "--interface=eth0",
                                 "--bind-interfaces", f"--dhcp-range={GUEST_IP},{GUEST_IP},255.255.255.0,1h",
                                 f"--dhcp-host={GUEST_MAC},{GUEST_IP}",
                                 f"--dhcp-leasefile={self.tmp / 'leases'}"], ns=self.lab.hosp_ns)
        wait_for(lambda: ":67 " in self.lab.hosp(["ss", "-lun"]).stdout, 10, "the DHCP server")
        try:
            self.assertEqual(self.udhcpc(self.lab.guest_ns), GUEST_IP)
        finally:
            self.lab.stop(server)
        self.lab.guest(["ip", "addr", "add", f"{GUEST_IP}/24", "dev", "eth0"])
        self.assertEqual(self.lab.guest(["ping", "-c", "1", "-W", "2", HOSP_IP], check=False).returncode, 0)

    def test_2_a_dhcp_server_on_the_guest_reaches_no_one(self):
        before = metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_layer2_dropped_packets_total",
                        reason="dhcp_server")
        self.lab.guest(["ip", "addr", "replace", f"{GUEST_IP}/24", "dev", "eth0"])
        rogue = self.lab.spawn(["dnsmasq", "--no-daemon", "--port=0", "--interface=eth0",
                                "--bind-interfaces", "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h",
                                f"--dhcp-leasefile={self.tmp / 'rogue-leases'}"], ns=self.lab.guest_ns)
        wait_for(lambda: ":67 " in self.lab.guest(["ss", "-lun"]).stdout, 10, "the rogue DHCP server")
        try:
            # The hospital host's DISCOVER is an ingress flow to port 67 that no rule allows.
            self.assertIsNone(self.udhcpc(self.lab.hosp_ns), "a hospital host took a lease from the guest")
        finally:
            self.lab.stop(rogue)
        # An unsolicited OFFER-shaped datagram from the guest's port 67 is refused at layer 2.
        pcap = self.tmp / "dhcp.pcap"
        tcpdump = self.lab.capture(self.lab.hosp_ns, "udp src port 67", pcap)
        self.lab.guest([sys.executable, "-c", OFFER])
        wait_for(lambda: metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_layer2_dropped_packets_total",
                                reason="dhcp_server") - before >= 1, 10, "the offer to be dropped")
        self.lab.stop(tcpdump, signal.SIGINT)
        self.assertEqual(self.lab.count_packets(pcap), 0)

    def test_3_arp_may_claim_only_the_guests_address(self):
        self.lab.hosp(["sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1"])
        self.lab.hosp(["ip", "neigh", "flush", "dev", "eth0"])
        pcap = self.tmp / "arp.pcap"
        tcpdump = self.lab.capture(self.lab.hosp_ns, "arp", pcap)
        self.lab.guest([sys.executable, "-c", ARP_CLAIM, "10.77.0.9", GUEST_MAC])  # someone else's
        self.lab.guest([sys.executable, "-c", ARP_CLAIM, GUEST_IP, GUEST_MAC])     # its own
        wait_for(lambda: self.lab.count_packets(pcap, f"arp and host {GUEST_IP}") >= 1, 10,
                 "the guest's own ARP on the hospital side")
        self.lab.stop(tcpdump, signal.SIGINT)
        self.assertEqual(self.lab.count_packets(pcap, "arp and host 10.77.0.9"), 0)
        self.assertEqual(self.lab.hosp(["ip", "neigh", "show", "10.77.0.9"]).stdout.strip(), "")
        self.assertEqual(metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_layer2_dropped_packets_total",
                                reason="arp_spoof"), 1)


if __name__ == "__main__":
    main()
