#!/usr/bin/python3
"""netmon judging Modbus/TCP live, between two network namespaces: pymodbus's client in the
guest, pymodbus's server as a refrigerator monitor's gateway (tests/tools/modbus_peer.py).
The cabinet's reads pass, an exception answer is counted as a refusal, and a write never
reaches the gateway: its register keeps its value.

Usage: test_modbus.py NETMON_BINARY [ring|pcap]   (as root)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, metric  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

HERE = Path(__file__).resolve().parent
PEER = HERE.parent / "tools" / "modbus_peer.py"
METRICS_PORT = port("integration.modbus")


class ModbusTest(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vtm", HERE / "policy-modbus.yaml", METRICS_PORT

    @classmethod
    def serve(cls):
        _, log = cls.log_file("modbus_server.log")
        cls.lab.spawn([sys.executable, str(PEER), "server", "502"], ns=cls.lab.hosp_ns, stdout=log, stderr=log)
        cls.wait_listening(cls.lab.hosp, 502, "the Modbus server")

    def client(self, *actions):
        r = self.lab.guest([sys.executable, str(PEER), "client", HOSP_IP, "502", *actions], check=False)
        return r.stdout.splitlines()

    def requests(self, function, verdict):
        return metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_messages_total", protocol="Modbus",
                      type=function, direction="egress", verdict=verdict)

    def test_reads_pass_and_an_exception_answer_is_a_refusal(self):
        self.assertEqual(self.client("read", "read-past"), ["read ok [0, 1, 2]", "read-past exception 2"])
        self.assertGreaterEqual(self.requests("READ_HOLDING_REGISTERS", "allow"), 2)
        self.assertGreaterEqual(metric(self.lab.scrape(METRICS_PORT), "vitrine_netmon_message_naks_total",
                                       protocol="Modbus"), 1)

    def test_a_write_never_reaches_the_gateway(self):
        lines = self.client("read", "write")
        self.assertEqual(lines[0], "read ok [0, 1, 2]")
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[1].startswith("write failed"), lines)
        self.assertGreaterEqual(self.requests("WRITE_SINGLE_REGISTER", "deny"), 1)
        # The gateway's register 16 still holds its own address: the write was not applied.
        probe = self.lab.guest([sys.executable, "-c", (
            "from pymodbus.client import ModbusTcpClient as C; c = C('%s', port=502, timeout=3, retries=0); "
            "c.connect(); print(c.read_holding_registers(16, 1, slave=1).registers[0])") % HOSP_IP], check=False)
        self.assertEqual(probe.stdout.strip(), "16", probe.stdout + probe.stderr)


if __name__ == "__main__":
    main()
