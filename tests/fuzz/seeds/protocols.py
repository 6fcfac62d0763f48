"""Seeds for the HL7, DICOM and RDP readers, and the passthrough's device readers."""
import sys

from scapy.all import TCP, rdpcap

from .common import FUZZ as HERE, ROOT, write


def hl7_seeds():
    """HL7: the public captures cut three ways, and the framings they lack."""
    hl7_corpus = HERE / "corpus" / "fuzz_hl7"
    for capture in ("HL7-ADT.pcap", "HL7-ORM.pcap"):
        packets = rdpcap(str(ROOT / "tests" / "captures" / capture))
        stream = b"".join(bytes(p[TCP].payload) for p in packets if TCP in p and len(p[TCP].payload))
        for cut in (1, 7, 63):  # first byte: how the target cuts the stream
            (hl7_corpus / f"{capture[:-5]}-{cut}").write_bytes(bytes([cut]) + stream)
    (hl7_corpus / "odd-separators").write_bytes(b"\x05\x0bMSH#*~\\&#A*B#W#P#M#T##ADT*A01#1#P#2.3\rPID#1##ID7\r\x1c\r")
    # A batch (a second MSH in one frame), line breaks before the first frame, a structure of
    # another message code in MSH-9, an FS without its CR.
    msh = b"MSH|^~\\&|CAB|W3|PH|H|2026||ORM^O01^ADT_A01|1|P|2.5\r"
    (hl7_corpus / "batch").write_bytes(b"\x09\x0b" + msh + b"PID|1||X\r" + msh + b"\x1c\r")
    (hl7_corpus / "lf-in-msh9").write_bytes(b"\x05\x0bMSH|^~\\&|CAB|W3|PH|H|2026||ORM^O01\n^ADT_A01|1|P|2.5\r\x1c\n")
    (hl7_corpus / "leading-crlf").write_bytes(b"\x03\r\n\r\n\x0b" + msh + b"\x1c\r\x0b" + msh + b"\x1c")

def dicom_seeds():
    """DICOM: both directions of the recorded associations, and the PDU length bounds."""
    # dicom: each direction of the recorded associations (golden case dicom-ae-titles).
    packets = rdpcap(str(ROOT / "tests" / "golden" / "dicom-ae-titles" / "input.pcap"))
    for name, side in (("requestor", "dport"), ("acceptor", "sport")):
        stream = b"".join(bytes(p[TCP].payload) for p in packets
                          if TCP in p and getattr(p[TCP], side) == 104 and len(p[TCP].payload))
        for cut in (1, 40):
            (HERE / "corpus" / "fuzz_dicom" / f"{name}-{cut}").write_bytes(bytes([cut]) + stream)
    # The bounds on PDU lengths: a P-DATA PDU longer than the association's Maximum Length
    # Received (16 KiB here), and a release request claiming 64 KiB where 4 bytes are due.
    requestor = (HERE / "corpus" / "fuzz_dicom" / "requestor-40").read_bytes()[1:]
    first = requestor[:6 + int.from_bytes(requestor[2:6], "big")]
    (HERE / "corpus" / "fuzz_dicom" / "pdata-over-maximum").write_bytes(
        bytes([40]) + first + b"\x04\x00" + (1 << 20).to_bytes(4, "big") + bytes(64))
    (HERE / "corpus" / "fuzz_dicom" / "release-too-long").write_bytes(
        bytes([3]) + first + b"\x05\x00\x00\x01\x00\x00" + bytes(8))

def rdp_seeds():
    """RDP: the recorded conversations as records, and the shapes they lack."""
    # rdp: the recorded conversations (golden cases rdp-bluekeep, rdp-nmap, rdp-tls-session),
    # both sides in their order, as the target's records: [client bit | length] then bytes.
    def rdp_records(chunks):
        out = b""
        for from_client, data in chunks:
            for i in range(0, len(data), 127):
                piece = data[i:i + 127]
                out += bytes([(0x80 if from_client else 0) | len(piece)]) + piece
        return out
    for case in ("rdp-bluekeep", "rdp-nmap", "rdp-tls-session"):
        packets = rdpcap(str(ROOT / "tests" / "golden" / case / "input.pcap"))
        for port in sorted({p[TCP].sport for p in packets if TCP in p and p[TCP].dport == 3389}):
            chunks = [(p[TCP].dport == 3389, bytes(p[TCP].payload)) for p in packets
                      if TCP in p and port in (p[TCP].sport, p[TCP].dport) and len(p[TCP].payload)]
            if chunks:
                (HERE / "corpus" / "fuzz_rdp" / f"{case}-{port}").write_bytes(rdp_records(chunks))
    # The shapes a recording lacks: TPKT's reserved byte set, a decoy "Duca" in the calling
    # domain selector (the probe's encoding with its selector replaced), TLS after standard
    # security, a second Connect-Initial, a request whose negotiation type XP does not know.
    sys.path.insert(0, str(ROOT / "tests" / "tools"))
    import rdp_probe
    request, confirm = rdp_probe.connection_request(), rdp_probe.connection_confirm()
    initial = rdp_probe.connect_initial(["rdpdr", "MS_T120"])
    odd = bytearray(request + initial)
    odd[1] = odd[len(request) + 1] = 0x01
    decoy = b"Duca" + bytes([0x80, 12]) + bytes.fromhex("03c00c000100000072647064")
    at = len(b"\x03\x00\x00\x00\x02\xf0\x80\x7f\x65\x82\x00\x00")
    inner = bytes([0x04, len(decoy)]) + decoy + initial[at + 3:]  # after the calling selector 04 01 01
    fake = rdp_probe.tpkt(bytes([0x02, 0xF0, 0x80]) + b"\x7f\x65\x82" + len(inner).to_bytes(2, "big") + inner)
    unknown = bytearray(request)
    unknown[-8] = 0x02
    shapes = {
        "reserved-byte": [(True, bytes(odd[:len(request)])), (False, confirm), (True, bytes(odd[len(request):]))],
        "decoy-duca": [(True, request), (False, confirm), (True, fake)],
        "tls-after-standard": [(True, request), (False, confirm), (True, bytes.fromhex("160301002001"))],
        "second-connect-initial": [(True, request), (False, confirm), (True, rdp_probe.connect_initial(["rdpdr"])),
                                   (True, initial)],
        "unknown-negotiation": [(True, bytes(unknown)), (False, confirm), (True, initial)],
    }
    for name, chunks in shapes.items():
        (HERE / "corpus" / "fuzz_rdp" / name).write_bytes(rdp_records(chunks))

def device_seeds():
    """USB descriptors of the recorded devices, and a barcode scanner's serial lines."""
    # usb: the descriptors of the cabinet's recorded devices (tests/passthrough/devices).
    for recorded in sorted((ROOT / "tests" / "passthrough" / "devices").glob("*.umockdev")):
        for line in recorded.read_text().splitlines():
            if line.startswith("H: descriptors="):
                (HERE / "corpus" / "fuzz_usb_device" / recorded.stem).write_bytes(bytes.fromhex(line.split("=", 1)[1]))
    # serial_filter: [max line][mode bits][piece] then what a scanner sends: lines, CR LF, an escape.
    (HERE / "corpus" / "fuzz_serial_filter" / "scanner").write_bytes(
        bytes([64, 1, 7]) + b"RX-7-INSULIN\r\n0123456789\n\x1b[2J\r" + b"A" * 70 + b"\n")


def write_seeds():
    hl7_seeds()
    dicom_seeds()
    rdp_seeds()
    device_seeds()
