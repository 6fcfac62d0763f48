"""Seeds for the SMB reader: recorded client streams, SMB2, DCE/RPC on pipes, transactions."""

from scapy.all import TCP, rdpcap

from .common import FUZZ as HERE, ROOT, write


# An SMB1 request header (SESSION_SETUP_ANDX, unicode, MID 1) for the seeds that build SMB by hand.
SMB1_SESSION_SETUP = b"\xffSMB\x73" + bytes(5) + b"\x07\xc8" + bytes(18) + b"\x01\x00"


def records(chunks):
    """The target's records: [server bit | 15-bit length] then bytes, for (from_server, bytes)."""
    out = b""
    for from_server, data in chunks:
        for i in range(0, max(len(data), 1), 0x7fff):
            piece = data[i:i + 0x7fff]
            out += ((0x8000 if from_server else 0) | len(piece)).to_bytes(2, "big") + piece
    return out


def client(stream, piece=199):
    """A client's stream alone, cut into pieces of `piece` bytes."""
    return records((False, stream[i:i + piece]) for i in range(0, len(stream), piece))


def netbios(*messages):
    return b"".join(len(m).to_bytes(4, "big") + m for m in messages)


def smb2(command, next_command, body):
    header = b"\xfeSMB" + (64).to_bytes(2, "little") + bytes(6) + command.to_bytes(2, "little") + \
        (1).to_bytes(2, "little") + bytes(4) + next_command.to_bytes(4, "little") + bytes(40)
    return header + body


def smb_seeds():
    """SMB: the recorded client streams, an XP-style AndX chain, SMB2 basics."""
    # smb: each recorded SMB session, both sides (golden cases smb-virtual-patches: nmap's probes
    # and impacket against impacket's server; smb-samba-transactions and smb-transaction-races:
    # Samba's clients, impacket and the MS17-010 sequences against Samba's server), and nDPI's
    # smbv1.pcap with its DoublePulsar ping.
    golden = ROOT / "tests" / "golden"
    for name, capture in (("virtual-patches", golden / "smb-virtual-patches" / "input.pcap"),
                          ("samba-transactions", golden / "smb-samba-transactions" / "input.pcap"),
                          ("transaction-races", golden / "smb-transaction-races" / "input.pcap"),
                          ("worm-calls", golden / "smb-worm-calls" / "input.pcap"),
                          ("smbv1", ROOT / "tests" / "data" / "pcaps" / "smbv1.pcap")):
        packets = rdpcap(str(capture))
        for port in sorted({p[TCP].sport for p in packets if TCP in p and p[TCP].dport == 445}):
            chunks = [(p[TCP].sport == 445, bytes(p[TCP].payload)) for p in packets
                      if TCP in p and port in (p[TCP].sport, p[TCP].dport) and len(p[TCP].payload)]
            if chunks:
                (HERE / "corpus" / "fuzz_smb" / f"{name}-{port}").write_bytes(records(chunks))
                # The client's side again, cut into 7-byte pieces: the framer across reads.
                stream = b"".join(data for from_server, data in chunks if not from_server)
                (HERE / "corpus" / "fuzz_smb" / f"{name}-{port}-cut").write_bytes(client(stream, 7))
    # An XP-style chain: SESSION_SETUP_ANDX with TREE_CONNECT_ANDX (ADMIN$) chained at offset 61.
    setup = bytes([13, 0x75, 0]) + (61).to_bytes(2, "little") + bytes(22) + bytes(2)
    path = "\\\\console\\ADMIN$".encode("utf-16-le") + bytes(2)
    tree = bytes([4, 0xff, 0, 0, 0, 0, 0, 1, 0]) + (2 + len(path)).to_bytes(2, "little") + bytes(2) + path
    chain = SMB1_SESSION_SETUP + setup + tree
    (HERE / "corpus" / "fuzz_smb" / "andx-chain").write_bytes(client(netbios(chain)))
    # SMB2: a negotiate, and a tree connect whose NextCommand (8) lies inside its own header:
    # the message that once made the reader run off its buffer, kept as a regression.
    negotiate = smb2(0, 0, (36).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(32) + (0x0210).to_bytes(2, "little"))
    tree = smb2(3, 8, bytes([9, 0, 0, 0, 72, 0, 4, 0]) + "C$".encode("utf-16-le"))
    for name, message in (("smb2-negotiate", negotiate), ("smb2-next-inside-header", tree)):
        (HERE / "corpus" / "fuzz_smb" / name).write_bytes(client(netbios(message)))

def smb_pipe_seeds():
    """SMB: DCE/RPC on named pipes, every way of writing it, transactions with secondaries."""
    # DCE/RPC on a pipe as Metasploit's ms08_067_netapi writes it: a bind whose srvsvc context
    # is not first, then a NetprPathCanonicalize request in two fragments across two WRITE_ANDX;
    # and the same bind and request through SMB2 WRITE and the pipe IOCTL.
    def rpc(ptype, flags, call_id, body):
        return bytes([5, 0, ptype, flags, 0x10, 0, 0, 0]) + (16 + len(body)).to_bytes(2, "little") + bytes(2) + \
            call_id.to_bytes(4, "little") + body
    srvsvc = bytes.fromhex("c84f324b7016d30112785a47bf6ee188") + (3).to_bytes(4, "little")
    ctx = lambda i, iface: i.to_bytes(2, "little") + b"\x01\x00" + iface + bytes.fromhex("045d888aeb1cc9119fe808002b104860") + (2).to_bytes(4, "little")
    bind_pdu = rpc(11, 3, 1, bytes.fromhex("b810b81000000000") + b"\x02\x00\x00\x00" + ctx(0, bytes(16) + bytes(4)) + ctx(1, srvsvc))
    stub = "\\AAAA\\..\\..\\n".encode("utf-16-le")
    first = rpc(0, 1, 2, len(stub).to_bytes(4, "little") + (1).to_bytes(2, "little") + (31).to_bytes(2, "little") + stub[:9])
    last = rpc(0, 2, 2, len(stub).to_bytes(4, "little") + (1).to_bytes(2, "little") + (31).to_bytes(2, "little") + stub[9:])
    def write_andx(data):
        words = b"\xff\x00\x00\x00" + (0x4000).to_bytes(2, "little") + bytes(14) + len(data).to_bytes(2, "little") + (59).to_bytes(2, "little")
        return SMB1_SESSION_SETUP[:4] + b"\x2f" + SMB1_SESSION_SETUP[5:] + bytes([12]) + words + len(data).to_bytes(2, "little") + data
    stream = b"".join(len(m).to_bytes(4, "big") + m for m in
                      (write_andx(bind_pdu), write_andx(first + last[:20]), write_andx(last[20:])))
    (HERE / "corpus" / "fuzz_smb" / "dcerpc-split-writes").write_bytes(client(stream))
    file_id = bytes(range(16))
    write2 = smb2(9, 0, (49).to_bytes(2, "little") + (112).to_bytes(2, "little") + len(bind_pdu).to_bytes(4, "little") +
                  bytes(8) + file_id + bytes(16) + bind_pdu)
    ioctl2 = smb2(11, 0, (57).to_bytes(2, "little") + bytes(2) + (0x0011c017).to_bytes(4, "little") + file_id +
                  (120).to_bytes(4, "little") + len(first).to_bytes(4, "little") + bytes(24) + first)
    stream2 = b"".join(len(m).to_bytes(4, "big") + m for m in (write2, ioctl2))
    (HERE / "corpus" / "fuzz_smb" / "dcerpc-smb2-pipe").write_bytes(client(stream2))
    # Transactions with secondaries: a TransactNmPipe whose DCE/RPC continues in a
    # TRANSACTION_SECONDARY, an NT_TRANSACT_RENAME then its secondary, a WRITE_ANDX on a pending
    # transaction's MID, SMB_COM_WRITE to a pipe, WRITE_ANDX in raw mode with its length prefix.
    def smb1_msg(cmd, words, data, mid):
        hdr = b"\xffSMB" + bytes([cmd]) + bytes(5) + b"\x07\xc8" + bytes(18) + mid.to_bytes(2, "little")
        return hdr + bytes([len(words) // 2]) + words + len(data).to_bytes(2, "little") + data
    def trans(total, data, mid):
        w = bytearray(32)
        w[2:4] = total.to_bytes(2, "little"); w[22:24] = len(data).to_bytes(2, "little"); w[24] = 67
        w[26] = 2; w[28:30] = (0x26).to_bytes(2, "little"); w[30:32] = (0x4001).to_bytes(2, "little")
        return smb1_msg(0x25, bytes(w), data, mid)
    def trans_secondary(total, disp, data, mid):
        w = bytearray(16)
        w[2:4] = total.to_bytes(2, "little"); w[10] = len(data); w[12] = 51; w[14:16] = disp.to_bytes(2, "little")
        return smb1_msg(0x26, bytes(w), data, mid)
    call = rpc(0, 3, 2, len(stub).to_bytes(4, "little") + (1).to_bytes(2, "little") + (31).to_bytes(2, "little") + stub)
    rename = bytearray(38); rename[36] = 5
    core = lambda data: smb1_msg(0x0b, (0x4001).to_bytes(2, "little") + len(data).to_bytes(2, "little") + bytes(6),
                                 b"\x01" + len(data).to_bytes(2, "little") + data, 1)
    raw = b"\xff\x00\x00\x00" + (0x4001).to_bytes(2, "little") + bytes(8) + (0x000c).to_bytes(2, "little") + bytes(4) + \
        (len(call) + 2).to_bytes(2, "little") + (59).to_bytes(2, "little")
    shapes = {
        "trans-with-secondary": [trans(len(bind_pdu), bind_pdu, 3), trans(len(call), call[:20], 4),
                                 trans_secondary(len(call), 20, call[20:], 4)],
        "nt-rename-then-secondary": [smb1_msg(0xa0, bytes(rename), b"\x00", 7), smb1_msg(0xa1, bytes(36), b"", 7)],
        "write-on-pending-mid": [trans(100, bytes(50), 9), write_andx(bind_pdu)[:30] + b"\x09\x00" + write_andx(bind_pdu)[32:]],
        "core-write-pipe": [core(bind_pdu), core(call)],
        "raw-mode-prefix": [smb1_msg(0x2f, raw, len(call).to_bytes(2, "little") + call, 1)],
    }
    for name, messages in shapes.items():
        stream = b"".join(len(m).to_bytes(4, "big") + m for m in messages)
        (HERE / "corpus" / "fuzz_smb" / name).write_bytes(client(stream))


def write_seeds():
    from . import smb_shapes  # it builds on this module's helpers
    smb_seeds()
    smb_pipe_seeds()
    smb_shapes.write_seeds(write)
