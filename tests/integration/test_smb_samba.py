#!/usr/bin/python3
"""netmon's SMB transaction and DCE/RPC readers live, between two network namespaces: Samba's
smbd as an XP-era console server (SMB1 only, a 2048-byte buffer: tests/tools/samba_server.py)
on the hospital side, Samba's own clients and impacket in the guest. What real clients send
passes: a TRANSACTION2 and a pipe request that their secondaries complete, a bind with six
presentation contexts, an ALTER_CONTEXT, benign calls on dssetup and Plug and Play. What the
MS17-010 family sets its primitives up with (tests/tools/smb_transactions.py), MS08-067's call
on a context that is not a bind's first, Sasser's and Zotob's calls, never reach the server. What reached the server is read from its own log: each SMB
command it was sent ("switch message SMBtranss ...").

Usage: test_smb_samba.py NETMON_BINARY [ring|pcap]   (as root)
"""
import collections
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "lib"))
from vitrine_lab import HOSP_IP, wait_for  # noqa: E402
from lab_ports import port  # noqa: E402
from netmon_case import NetmonCase, main  # noqa: E402

TOOLS = Path(__file__).resolve().parents[1] / "tools"
POLICY = Path(__file__).resolve().parent / "policy-smb.yaml"
METRICS_PORT = port("integration.smb_samba")
NT1 = "--option=client min protocol=NT1"
DSSETUP = "3919286a-b10c-11d0-9ba8-00c04fd92ef5:0.0"  # on lsarpc: Sasser's interface (MS04-011)
PNP = "8d9f4e40-a03d-11ce-8f69-08003e30051b:1.0"  # on ntsvcs: Zotob's (MS05-039)

# Each sequence of tests/tools/smb_transactions.py: its signature, and what of it the server
# may have had (the SMB commands smbd logs: its name for each) before the cut.
RACES = {
    "nt-rename-then-secondary": ("nt-trans-unimplemented-function", {"SMBnttrans": 0, "SMBnttranss": 0}),
    "secondary-after-complete": ("trans-secondary-without-pending", {"SMBtrans": 1, "SMBtranss": 0}),
    "write-on-pending-mid": ("command-on-pending-transaction", {"SMBtrans": 1, "SMBwriteX": 0}),
    "secondary-beyond-total": ("trans-secondary-beyond-total", {"SMBtrans": 1, "SMBtranss": 0}),
    "nt-trans-by-trans2": ("nt-trans-continued-by-trans2", {"SMBnttrans": 1, "SMBtranss2": 0}),
    "secondary-other-kind": ("trans-secondary-other-kind", {"SMBtrans": 1, "SMBtranss2": 0}),
    "transactions-over-bound": ("pending-transactions-over-bound", {"SMBtrans": 16}),
}


class SambaTest(NetmonCase):
    LAB, POLICY, METRICS_PORT = "vtb", POLICY, METRICS_PORT

    @classmethod
    def serve(cls):
        share = cls.tmp / "share"
        share.mkdir()
        (share / "formulary.txt").write_text("amoxicillin 500mg\n")
        cls.lab.hosp(["ip", "link", "set", "lo", "up"])
        cls.server_log = cls.tmp / "samba" / "smbd.log"
        cls.lab.spawn(["/usr/bin/python3", str(TOOLS / "samba_server.py"), str(cls.tmp / "samba"), "CABINETDATA",
                       str(share), HOSP_IP], ns=cls.lab.hosp_ns)
        cls.wait_listening(cls.lab.hosp, 445, "Samba's smbd", timeout=30)

    def received(self):
        """How many of each SMB command the server was sent, by its log ("exits": sessions over)."""
        text = self.server_log.read_bytes().decode("latin-1") if self.server_log.exists() else ""
        counts = collections.Counter(re.findall(r"switch message (\S+)", text))
        counts["exits"] = len(re.findall(r"Server exit", text))
        return counts

    def run_guest(self, *cmd):
        """One client session in the guest: its output, and what of it reached the server (read
        once the server's process for it has logged its exit)."""
        before = self.received()
        out = self.lab.guest(list(cmd), check=False, timeout=60).stdout
        wait_for(lambda: self.received()["exits"] > before["exits"], 15, "the server's end of the session")
        return out, self.received() - before

    def events_with(self, signature):
        return [e for e in map(json.loads, self.events.read_text().splitlines())
                if e["event"] == "virtual_patch" and e.get("signature") == signature]

    def impacket(self, *flags):
        out, got = self.run_guest("/usr/bin/python3", str(TOOLS / "smb_session.py"), HOSP_IP, "CABINETDATA", *flags)
        return out.splitlines(), got

    def test_1_a_transaction2_its_secondary_completes_passes(self):
        long = "".join(f"directory{i:03d}\\" for i in range(1, 111)) + "formulary.txt"
        out, got = self.run_guest("smbclient", "-U%", "-N", NT1, f"//{HOSP_IP}/CABINETDATA",
                                  "-c", f"allinfo {long}; allinfo formulary.txt")
        self.assertEqual(got["SMBtranss2"], 1, f"the secondary did not reach the server: {got}")
        self.assertIn("altname:", out, "the session after it did not go on")

    def test_2_a_pipe_request_a_secondary_completes_passes(self):
        names = [f"user{i:03d}" for i in range(1, 301)]
        _, got = self.run_guest("rpcclient", "-U%", "-N", NT1, HOSP_IP, "-c", "lookupnames " + " ".join(names))
        self.assertEqual(got["SMBtranss"], 1, f"the secondary did not reach the server: {got}")
        self.assertEqual(got["SMBwriteX"], 2, "the request's first fragments did not reach the server")

    def test_3_a_bind_of_six_contexts_is_read_whole(self):
        benign, got = self.impacket("--benign-path", "--bogus-binds", "5")
        self.assertEqual(benign[1], "canonicalize refused by the server DCERPCException")
        self.assertEqual(got["SMBwriteX"], 2, "bind and call")
        attack, got = self.impacket("--ms08-067", "--bogus-binds", "5")
        self.assertTrue(attack[1].startswith("canonicalize cut"), attack)
        self.assertEqual(got["SMBwriteX"], 1, "the call reached the server")
        wait_for(lambda: self.events_with("vitrine.smb.ms08-067.netpathcanonicalize-traversal"), 5, "the event")

    def test_4_a_context_added_by_alter_context_is_read(self):
        benign, got = self.impacket("--benign-path", "--alter-context")
        self.assertEqual(benign[1], "canonicalize refused by the server DCERPCException")
        self.assertEqual(got["SMBwriteX"], 3, "bind, alter_context and call")
        before = len(self.events_with("vitrine.smb.ms08-067.netpathcanonicalize-traversal"))
        attack, got = self.impacket("--ms08-067", "--alter-context")
        self.assertTrue(attack[1].startswith("canonicalize cut"), attack)
        self.assertEqual(got["SMBwriteX"], 2, "the call reached the server")
        wait_for(lambda: len(self.events_with("vitrine.smb.ms08-067.netpathcanonicalize-traversal")) > before, 5,
                 "the event")

    def test_5_a_transaction_its_secondary_completes_on_the_pipe_passes(self):
        out, got = self.run_guest("/usr/bin/python3", str(TOOLS / "smb_transactions.py"), HOSP_IP,
                                  "complete-with-secondary")
        self.assertEqual(out.splitlines()[1:], ["answered TRANSACTION", "answered TRANSACTION"], out)
        self.assertEqual((got["SMBtrans"], got["SMBtranss"]), (1, 1), got)

    def test_7_sassers_and_zotobs_calls_never_reach_the_server(self):
        for pipe, interface, (benign, attack), signature in (
                ("\\lsarpc", DSSETUP, (["0", "--stub", "0100"], ["9", "--string", "2000"]),
                 "vitrine.smb.ms04-011.dsrole-upgrade-downlevel-server"),
                ("\\ntsvcs", PNP, (["2"], ["54", "--string", "100"]), "vitrine.smb.ms05-039.pnp-query-res-conf-list")):
            with self.subTest(signature=signature):
                out, got = self.run_guest("/usr/bin/python3", str(TOOLS / "rpc_call.py"), HOSP_IP, pipe, interface, *benign)
                self.assertEqual(out.splitlines(), ["bound", "answered"], out)
                self.assertEqual(got["SMBwriteX"], 2, "bind and call")
                out, got = self.run_guest("/usr/bin/python3", str(TOOLS / "rpc_call.py"), HOSP_IP, pipe, interface, *attack)
                self.assertTrue(out.splitlines()[-1].startswith("cut"), out)
                self.assertEqual(got["SMBwriteX"], 1, "the call reached the server")
                wait_for(lambda: self.events_with(signature), 5, f"the event of {signature}")

    def test_6_the_ms17_010_family_is_cut_where_it_sets_its_primitive_up(self):
        for shape, (signature, allowed) in RACES.items():
            with self.subTest(shape=shape):
                before = len(self.events_with(f"vitrine.smb.ms17-010.{signature}"))
                out, got = self.run_guest("/usr/bin/python3", str(TOOLS / "smb_transactions.py"), HOSP_IP, shape)
                lines = out.splitlines()
                self.assertEqual(lines[0], "files 3", out)
                self.assertTrue(lines[-1].startswith("cut"), f"the connection was not cut: {out}")
                for command, count in allowed.items():
                    self.assertEqual(got[command], count, f"{command} reached the server {got[command]} times")
                wait_for(lambda: len(self.events_with(f"vitrine.smb.ms17-010.{signature}")) > before, 5,
                         f"the virtual_patch event of {shape}")


if __name__ == "__main__":
    for tool in ("smbd", "smbclient", "rpcclient"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: deploy/install-deps.sh --with-tests installs it")
    main()
