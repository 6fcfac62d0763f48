#!/usr/bin/python3
"""netmon's SMB inspector live, between two network namespaces: python3-impacket's smbserver
on the hospital side, nmap and an impacket client in the guest. The MS17-010 probe of nmap's
smb-vuln-ms17-010, the MS08-067 check of nmap's smb-vuln-ms08-067 and the MS08-067 srvsvc call
never reach the server; a normal session does;
a tree connect to an administrative share is refused by rule.

Usage: test_smb.py NETMON_BINARY [ring|pcap]   (as root)
"""
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

POLICY = Path(__file__).resolve().parent / "policy-smb.yaml"
SESSION = Path(__file__).resolve().parents[1] / "tools" / "smb_session.py"
SMBSERVER = Path(__file__).resolve().parents[1] / "tools" / "smb_server.py"
METRICS_PORT = port("integration.smb")


class SmbTest(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vts", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        share = cls.tmp / "share"
        share.mkdir()
        (share / "formulary.txt").write_text("amoxicillin 500mg\n")
        cls.server_log, cls.server_log_file = cls.log_file("smbserver.log")  # what reached the server: its log
        # impacket's RPC side binds to the loopback of its namespace.
        cls.lab.hosp(["ip", "link", "set", "lo", "up"])
        cls.lab.spawn(["/usr/bin/python3", str(SMBSERVER), "CABINETDATA", str(share)], ns=cls.lab.hosp_ns,
                      stdout=cls.server_log_file, stderr=cls.server_log_file)
        cls.wait_listening(cls.lab.hosp, 445, "impacket's smbserver", timeout=15)

    def session(self, share, *extra):
        return self.lab.guest(["/usr/bin/python3", str(SESSION), HOSP_IP, share, *extra], check=False).stdout.split("\n")

    def patch_hits(self, patch):
        series = self.lab.scrape(METRICS_PORT)
        return sum(v for (name, labels), v in series.items()
                   if name == "vitrine_netmon_virtual_patch_hits_total" and ("patch", patch) in labels)

    def virtual_patch_events(self, signature):
        lines = self.events.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e["event"] == "virtual_patch" and e.get("signature") == signature]

    def test_1_a_normal_session_lists_its_share(self):
        self.assertEqual(self.session("CABINETDATA")[0], "files 3")

    def test_2_the_ms17_010_probe_of_nmap_never_reaches_the_server(self):
        r = self.lab.guest(["nmap", "-Pn", "-n", "-p445", "--script", "smb-vuln-ms17-010", HOSP_IP], check=False)
        self.assertIn("445/tcp open", r.stdout)
        self.assertNotIn("VULNERABLE", r.stdout)
        wait_for(lambda: self.virtual_patch_events("vitrine.smb.ms17-010.peek-named-pipe-fid0"), 5,
                 "the virtual_patch event of the MS17-010 probe")
        self.assertNotIn("Unsupported Transact command 35", self.server_log.read_text(),
                         "the PeekNamedPipe probe reached the server")
        self.assertGreaterEqual(self.patch_hits("ms17-010"), 1)

    def test_3_the_ms08_067_call_never_reaches_the_server(self):
        out = self.session("CABINETDATA", "--ms08-067")
        self.assertEqual(out[0], "files 3", "the session before the call is allowed")
        self.assertTrue(out[1].startswith("canonicalize cut"), f"the call was not cut: {out[1]}")
        wait_for(lambda: self.virtual_patch_events("vitrine.smb.ms08-067.netpathcanonicalize-traversal"), 5,
                 "the virtual_patch event of the MS08-067 call")
        self.assertNotIn("opnum 31", self.server_log.read_text(), "the srvsvc call reached the server")

    def test_3c_fragmented_calls_are_read_whole(self):
        # impacket cuts the request into 16-byte DCE/RPC fragments, each its own pipe write: the
        # benign call passes, the traversal and the path longer than MAX_PATH never reach the server.
        benign = self.session("CABINETDATA", "--benign-path", "--fragment", "16")
        self.assertEqual(benign[1], "canonicalize refused by the server DCERPCException", "the benign call got there")
        for flag, signature in (("--ms08-067", "vitrine.smb.ms08-067.netpathcanonicalize-traversal"),
                                ("--long-path", "vitrine.smb.ms06-040.path-longer-than-max-path")):
            before = len(self.virtual_patch_events(signature))
            out = self.session("CABINETDATA", flag, "--fragment", "16")
            self.assertTrue(out[1].startswith("canonicalize cut"), f"{flag}: the call was not cut: {out[1]}")
            wait_for(lambda: len(self.virtual_patch_events(signature)) > before, 5, f"the virtual_patch event of {flag}")
        self.assertEqual(self.server_log.read_text().count("opnum 31"), 1, "only the benign call reached the server")

    def test_3b_the_ms08_067_check_of_nmap_never_reaches_the_server(self):
        r = self.lab.guest(["nmap", "-Pn", "-n", "-p445", "--script", "smb-vuln-ms08-067", HOSP_IP], check=False)
        self.assertIn("445/tcp open", r.stdout)
        wait_for(lambda: self.virtual_patch_events("vitrine.smb.ms08-067.netpathcompare-traversal"), 5,
                 "the virtual_patch event of nmap's MS08-067 check")
        self.assertNotIn("opnum 32", self.server_log.read_text(), "the NetprPathCompare call reached the server")

    def test_4_an_administrative_share_is_refused_by_rule(self):
        out = self.session("ADMIN$")
        self.assertTrue(out[0].startswith("error"), out)
        denied = [e for e in map(json.loads, self.events.read_text().splitlines())
                  if e["event"] == "flow_denied" and e.get("rule") == "no-admin-shares"]
        self.assertEqual(len(denied), 1)
        self.assertEqual(denied[0]["attributes"]["smb.share"], "ADMIN$")
        self.assertNotIn("ADMIN$", self.server_log.read_text(), "the tree connect reached the server")


if __name__ == "__main__":
    if shutil.which("nmap") is None:
        sys.exit("nmap is missing: deploy/install-deps.sh --with-tests installs it")
    main()
