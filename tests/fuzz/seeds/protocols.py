"""Seeds for the HL7, DICOM and RDP readers, and the passthrough's device readers."""
import struct
import sys

from scapy.all import TCP, rdpcap

from .common import FUZZ as HERE, ROOT


def hl7_seeds():
    """HL7: the public captures cut three ways, and the framings they lack."""
    hl7_corpus = HERE / "corpus" / "fuzz_hl7"
    for capture in ("HL7-ADT.pcap", "HL7-ORM.pcap"):
        packets = rdpcap(str(ROOT / "tests" / "data" / "pcaps" / capture))
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
    # What the message reader refuses: no MSH first, MSH-1 not a separator, no encoding
    # characters, an empty MSH-9, a start block inside a frame, an empty frame.
    refused = [b"PID|1||X\r", b"MSHA^~\\&|CAB|W3\r", b"MSH||CAB|W3|PH\r", b"MSH|^~\\&|CAB|W3|PH|H|2026|||1|P|2.5\r", msh[:20] + b"\x0b" + msh, b""]
    (hl7_corpus / "refused-frames").write_bytes(b"\x07" + b"".join(b"\x0b" + m + b"\x1c\r" for m in refused))

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
    # Received (16 KiB here), fed a byte at a time so that the association is read before the
    # P-DATA header; and a release request claiming 64 KiB where 4 bytes are due.
    requestor = (HERE / "corpus" / "fuzz_dicom" / "requestor-40").read_bytes()[1:]
    first = requestor[:6 + int.from_bytes(requestor[2:6], "big")]
    (HERE / "corpus" / "fuzz_dicom" / "pdata-over-maximum").write_bytes(
        bytes([0]) + first + b"\x04\x00" + (1 << 20).to_bytes(4, "big") + bytes(64))
    (HERE / "corpus" / "fuzz_dicom" / "release-too-long").write_bytes(
        bytes([3]) + first + b"\x05\x00\x00\x01\x00\x00" + bytes(8))
    # A-ASSOCIATE-RQ shapes (PS3.8 9.3.2): the recorded one's fixed fields with other items: an
    # application context that is not a UID, an implementation class UID before the maximum
    # length in the user information, an item cut short, one longer than its PDU; then a PDU
    # of a type DICOM does not define.
    fixed = first[6:6 + 68]
    item = lambda kind, value: bytes([kind, 0]) + len(value).to_bytes(2, "big") + value
    rq = lambda items: b"\x01\x00" + (68 + len(items)).to_bytes(4, "big") + fixed + items
    user = item(0x50, item(0x52, b"1.2.826.0.1.3680043.2.1545.1") + item(0x51, (16384).to_bytes(4, "big")))
    shapes = {
        "context-not-a-uid": rq(item(0x10, b"1.2.840.10008.3.1.1.1<script>") + user),
        "implementation-uid-first": rq(item(0x10, b"1.2.840.10008.3.1.1.1") + user),
        "item-cut-short": rq(item(0x10, b"1.2.840.10008.3.1.1.1") + b"\x50\x00"),
        "item-longer-than-pdu": rq(item(0x10, b"1.2.840.10008.3.1.1.1")[:4] + b"\x00" * 2),
        "user-info-without-maximum": rq(item(0x10, b"1.2.840.10008.3.1.1.1") + item(0x50, item(0x52, b"1.2.3"))),
        # An acceptor's context item (0x21) in a request, which DCMTK reads as a proposal; and a
        # second request on the connection.
        "ac-item-in-request": rq(item(0x10, b"1.2.840.10008.3.1.1.1") + item(0x21, b"\x03\x00\x00\x00" +
                                 item(0x30, b"1.2.840.10008.5.1.4.1.1.2") + item(0x40, b"1.2.840.10008.1.2.1"))),
        "second-request": first + first,
        "reject-and-abort": b"\x03\x00\x00\x00\x00\x04\x00\x01\x01\x01" + b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x00",
        "unknown-pdu-type": b"\x08\x00\x00\x00\x00\x04" + bytes(4),
    }
    for name, seed in shapes.items():
        (HERE / "corpus" / "fuzz_dicom" / name).write_bytes(bytes([40]) + seed)

def direction_records(chunks):
    """Both sides of a conversation in their order, as fuzz_rdp's and fuzz_modbus's records:
    [client bit | length] then that many bytes."""
    out = b""
    for from_client, data in chunks:
        for i in range(0, len(data), 127):
            piece = data[i:i + 127]
            out += bytes([(0x80 if from_client else 0) | len(piece)]) + piece
    return out


def conversations(case, port):
    """{client port: [(from client, payload)]} of a golden case's TCP flows to `port`."""
    packets = rdpcap(str(ROOT / "tests" / "golden" / case / "input.pcap"))
    out = {}
    for client in sorted({p[TCP].sport for p in packets if TCP in p and p[TCP].dport == port}):
        chunks = [(p[TCP].dport == port, bytes(p[TCP].payload)) for p in packets
                  if TCP in p and client in (p[TCP].sport, p[TCP].dport) and len(p[TCP].payload)]
        if chunks:
            out[client] = chunks
    return out


def rdp_seeds():
    """RDP: the recorded conversations as records, and the shapes they lack."""
    # rdp: the recorded conversations (golden cases rdp-bluekeep, rdp-nmap, rdp-tls-session).
    rdp_records = direction_records
    for case in ("rdp-bluekeep", "rdp-nmap", "rdp-tls-session"):
        for port, chunks in conversations(case, 3389).items():
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
        # The server's side: a confirm choosing TLS, CredSSP, CredSSP with early authentication,
        # something else, a negotiation failure, a negotiation type that is neither; then an MCS
        # Connect-Response (not a confirm: not read). And a Connect-Initial that does not parse.
        **{f"confirm-{name}": [(True, request), (False, rdp_probe.tpkt(bytes([14, 0xD0, 0, 0, 0x12, 0x34, 0]) +
                                                                     struct.pack("<BBHI", kind, 0, 8, value))),
                               (False, rdp_probe.tpkt(bytes([2, 0xF0, 0x80]) + b"\x7f\x66\x00"))]
           for name, kind, value in (("tls", 2, 1), ("credssp", 2, 2), ("early-auth", 2, 8), ("other", 2, 0x10),
                                     ("failure", 3, 5), ("neither", 5, 0))},
        # One-byte PER lengths (FreeRDP's), then a client TPKT after the Connect-Initial (an MCS
        # Erect Domain Request: not read).
        "short-per-lengths": [(True, request), (False, confirm), (True, rdp_probe.connect_initial(["MS_T120"], True)),
                              (True, rdp_probe.tpkt(bytes([2, 0xF0, 0x80, 0x04, 0x01, 0x00, 0x01, 0x00])))],
        "initial-does-not-parse": [(True, request), (False, confirm), (True, rdp_probe.tpkt(bytes([2, 0xF0, 0x80]) + b"\x7f\x65\x05abc"))],
    }
    for name, chunks in shapes.items():
        (HERE / "corpus" / "fuzz_rdp" / name).write_bytes(rdp_records(chunks))

def device_seeds():
    """USB descriptors of the recorded devices, and a barcode scanner's serial lines."""
    # usb: the descriptors of the cabinet's recorded devices (tests/passthrough/devices).
    for recorded in sorted((ROOT / "tests" / "passthrough" / "devices").glob("*.umockdev")):
        for line in recorded.read_text().splitlines():
            if line.startswith("H: descriptors="):
                descriptors = bytes.fromhex(line.split("=", 1)[1])
                (HERE / "corpus" / "fuzz_usb_device" / recorded.stem).write_bytes(b"\x00" + descriptors)
    # Mode 1: the ids, name and serial from the input too, as a device that lies gives them:
    # ids that are not hex, a name with an escape sequence, a serial of raw bytes, descriptors
    # past the bound, and ones too short or whose lengths lie.
    scanner = (HERE / "corpus" / "fuzz_usb_device" / "barcode-scanner").read_bytes()[1:]
    lying = lambda vendor, product, name, serial, d: b"\x01" + vendor + product + bytes([len(name)]) + name + bytes([len(serial)]) + serial + d
    shapes = {
        "ids-not-hex": lying(b"05eg", b"1200", b"Scanner", b"S1", scanner),
        "name-with-escape": lying(b"05e0", b"1200", b"Scanner\x1b[2J\n", b"S19042", scanner),
        "serial-raw-bytes": lying(b"05e0", b"1200", b"Scanner", b"\xff\x00\"\\", scanner),
        "descriptors-over-bound": lying(b"05e0", b"1200", b"Scanner", b"S1", scanner * (65536 // len(scanner) + 1)),
        "descriptors-short": lying(b"05e0", b"1200", b"Scanner", b"S1", scanner[:10]),
        "descriptor-length-one": lying(b"05e0", b"1200", b"Scanner", b"S1", scanner[:18] + b"\x01\x02" + scanner[20:]),
        "configuration-total-lies": lying(b"05e0", b"1200", b"Scanner", b"S1", scanner[:20] + b"\xff\xff" + scanner[22:]),
    }
    for name, seed in shapes.items():
        (HERE / "corpus" / "fuzz_usb_device" / name).write_bytes(seed)
    # serial_filter: [max line][mode bits][piece] then what a scanner sends: lines, CR LF, an escape.
    (HERE / "corpus" / "fuzz_serial_filter" / "scanner").write_bytes(
        bytes([64, 1, 7]) + b"RX-7-INSULIN\r\n0123456789\n\x1b[2J\r" + b"A" * 70 + b"\n")
    # Mode bit 1: a rate limit of 1 + the third byte bytes a second (reads 10 ms apart), on lines
    # and in byte mode (a maximum line of 0); a reader that sends faster than it may.
    lines = b"RX-7-INSULIN\r\n" * 6
    (HERE / "corpus" / "fuzz_serial_filter" / "scanner-rate-limited").write_bytes(bytes([64, 3, 15]) + lines)
    (HERE / "corpus" / "fuzz_serial_filter" / "bytes-rate-limited").write_bytes(bytes([0, 2, 3]) + lines)
    (HERE / "corpus" / "fuzz_serial_filter" / "bytes-unlimited").write_bytes(bytes([0, 0, 7]) + lines)


def modbus_seeds():
    """Modbus/TCP: the recorded polls (golden case modbus-functions), and a message of every
    function the reader names, both ways, with an exception answer; then each way to fail."""
    for port, chunks in conversations("modbus-functions", 502).items():
        (HERE / "corpus" / "fuzz_modbus" / f"recorded-{port}").write_bytes(direction_records(chunks))

    def adu(transaction, pdu, protocol=0, length=None):
        return struct.pack(">HHHB", transaction, protocol, len(pdu) + 1 if length is None else length, 1) + pdu
    codes = (1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 0x41)
    every = [(True, adu(i, bytes([code, 0, 0, 0, 1]))) for i, code in enumerate(codes)]
    every += [(False, adu(i, bytes([code | (0x80 if i % 2 else 0), 2]))) for i, code in enumerate(codes)]
    # The requests in one record and cut across records, as a client's pipelined polls arrive.
    (HERE / "corpus" / "fuzz_modbus" / "every-function").write_bytes(direction_records(every))
    joined = b"".join(data for _, data in every[:6])
    (HERE / "corpus" / "fuzz_modbus" / "pipelined").write_bytes(direction_records([(True, joined)]))
    failures = {
        "protocol-id": adu(1, b"\x03\x00\x00\x00\x01", protocol=0x1234),
        "no-function": adu(1, b"", length=1)[:7],
        "too-long": adu(1, bytes([0x10]) + bytes(253)),
        "function-zero": adu(1, b"\x00"),
        "request-exception-bit": adu(1, b"\x83\x02"),
    }
    # A read whose length hides a write (a server that sizes requests by their function reads
    # the write as a second request); first requests of an open size, and cut before a count.
    failures["write-in-read-length"] = adu(1, b"\x03\x00\x00\x00\x03" + adu(2, b"\x06\x00\x10\xbe\xef"))
    write_many = adu(1, b"\x10\x00\x10\x00\x02\x04\x00\x01\x00\x02")
    firsts = {"first-open-size": adu(1, b"\x2b\x0e\x01\x00"), "first-count-cut": write_many[:12],
              "first-count-wrong": write_many[:-1]}
    for name, data in firsts.items():
        (HERE / "corpus" / "fuzz_modbus" / name).write_bytes(direction_records([(True, data)]))
    for name, data in failures.items():
        (HERE / "corpus" / "fuzz_modbus" / name).write_bytes(direction_records([(True, adu(0, b"\x03\x00\x00\x00\x01")),
                                                                               (True, data)]))


def write_seeds():
    hl7_seeds()
    modbus_seeds()
    dicom_seeds()
    rdp_seeds()
    device_seeds()
