#!/usr/bin/python3
"""Writes the seed corpora for the fuzz targets (run once; the output is kept in the tree).

decode: one byte of link type, then a frame. engine: a mode byte (checksums verified or not),
then records [side][gap ms][len:2][frame] of whole sessions as the guest (10.77.0.2) would have
them, and of what the normaliser and admission meet: tiny, overlapping, out-of-order and
far-ahead segments, wrong checksums, resets, a stream picked up midway, a forged SYN-ACK first,
a SYN flood, VLAN tags, IP fragments, DHCP from its server and from a rogue. policy: the project's own policies.
tls_hello: a server's first TLS payload, whole and cut short, and a client's. hl7: the shared HL7
captures' MLLP streams, cut three ways. reassembly: records [kind][offset:2] (kind >= 0x80: an
acknowledgement; else a segment, then [len:1][bytes]): in order, out of order, overlapping alike
and not, far ahead, retransmitted after and before the acknowledgement, near the wrap. dicom: the recorded
associations' streams, each direction, cut two ways, and PDUs past their length bounds. rdp: the recorded connection starts (a probe, and nmap's scripts). smb: recorded SMB client streams, SMB2 seeds.
usb_device: the raw descriptors of the cabinet's recorded USB devices. serial_filter: scanner lines.
"""
import shutil

from seeds.common import FUZZ as HERE, ROOT
from seeds import network, protocols, smb

TARGETS = ("fuzz_decode", "fuzz_engine", "fuzz_policy", "fuzz_tls_hello", "fuzz_hl7", "fuzz_reassembly", "fuzz_dicom",
           "fuzz_rdp", "fuzz_smb", "fuzz_modbus", "fuzz_usb_device", "fuzz_serial_filter")


def policy_seeds():
    """policy: the shipped ones, the sanitizer's, the floods' (limits and DHCP servers) and the
    golden cases' (onMidstream, every inspector's rules)."""
    policies = list((ROOT / "policies" / "shipped").glob("*.yaml")) + [ROOT / "tests" / "sanitizer" / "policy.yaml",
                                                                        ROOT / "tests" / "integration" / "policy-floods.yaml"]
    for golden in sorted((ROOT / "tests" / "golden").glob("*/policy.yaml")):
        (HERE / "corpus" / "fuzz_policy" / f"golden-{golden.parent.name}.yaml").write_bytes(golden.read_bytes())
    for policy in policies:
        shutil.copy(policy, HERE / "corpus" / "fuzz_policy" / policy.name)


def main():
    for name in TARGETS:
        d = HERE / "corpus" / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    network.write_seeds()
    # Inputs that once broke a target (found by a campaign, campaign.py), kept as they were.
    for kept in sorted((HERE / "regressions").glob("*/*")):
        shutil.copy(kept, HERE / "corpus" / kept.parent.name / f"regression-{kept.name}")
    protocols.write_seeds()
    smb.write_seeds()
    policy_seeds()


if __name__ == "__main__":
    main()
