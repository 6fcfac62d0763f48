"""SMB seeds for what the recordings and the pipe seeds lack, laid out as [MS-CIFS], [MS-SMB2]
and [C706] give them: every SMB1 command the reader names, both sides of the dialect
negotiation, SMB2 compounds, tree connects and transform headers, NetBIOS session-service
frames, the write commands a pipe can be written with, the server's answers (DoublePulsar's
among them), the transaction table's bounds and refusals, and DCE/RPC in big-endian and
broken on its pipe."""
from .smb import client, netbios, records, smb2

# Every SMB1 command code smb_message.cpp names (and one it does not).
SMB1_COMMANDS = [0x00, 0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x14, 0x1d, 0x24, 0x25, 0x26, 0x29, 0x2a,
                 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x32, 0x33, 0x34, 0x71, 0x72, 0x73, 0x74, 0x75, 0xa0, 0xa1, 0xa2,
                 0xa4, 0xa5, 0xc0, 0xc1, 0xc2, 0xfe]


def smb1(cmd, words=b"", data=b"", mid=1, reply=False, tid=1, pid=0x0feff, uid=0x800):
    """An SMB1 message: the header ([MS-CIFS] 2.2.3.1), then the word and byte blocks."""
    hdr = b"\xffSMB" + bytes([cmd]) + bytes(4) + bytes([0x98 if reply else 0x18]) + b"\x07\xc8" + \
        (pid >> 16).to_bytes(2, "little") + bytes(8) + bytes(2) + tid.to_bytes(2, "little") + \
        (pid & 0xffff).to_bytes(2, "little") + uid.to_bytes(2, "little") + mid.to_bytes(2, "little")
    return hdr + bytes([len(words) // 2]) + words + len(data).to_bytes(2, "little") + data


def smb2_reply(command, body, next_command=0):
    m = bytearray(smb2(command, next_command, body))
    m[16] = 1  # SMB2_FLAGS_SERVER_TO_REDIR
    return bytes(m)


def rpc(ptype, flags, call_id, body, drep=0x10):
    """A DCE/RPC connection-oriented PDU ([C706] 12.6); drep 0x00: big-endian."""
    le = drep & 0x10
    order = "little" if le else "big"
    return bytes([5, 0, ptype, flags, drep, 0, 0, 0]) + (16 + len(body)).to_bytes(2, order) + bytes(2) + \
        call_id.to_bytes(4, order) + body


def write_andx(fid, data, mid=1, mode=0, remaining=0):
    words = b"\xff\x00\x00\x00" + fid.to_bytes(2, "little") + bytes(4) + bytes(4) + mode.to_bytes(2, "little") + \
        remaining.to_bytes(2, "little") + bytes(2) + len(data).to_bytes(2, "little") + (59).to_bytes(2, "little")
    return smb1(0x2f, words, data, mid)


def nt_transact(function, total_data, data=b"", mid=1, setup=b""):
    """NT_TRANSACT ([MS-CIFS] 2.2.4.62.1): 19 words, then the setup words."""
    w = bytearray(38)
    w[0] = 1  # MaxSetupCount
    w[7:11] = total_data.to_bytes(4, "little")
    w[27:31] = len(data).to_bytes(4, "little")
    w[31:35] = (32 + 1 + 38 + len(setup) + 2).to_bytes(4, "little")  # DataOffset: after the byte count
    w[35] = len(setup) // 2
    w[36:38] = function.to_bytes(2, "little")
    return smb1(0xa0, bytes(w) + setup, data, mid)


def transaction(cmd, total, data, mid, setup=b"\x26\x00\x01\x40"):
    """TRANSACTION or TRANSACTION2 with one data block at its offset after the byte count."""
    w = bytearray(28)
    w[2:4] = total.to_bytes(2, "little")
    w[22:24] = len(data).to_bytes(2, "little")
    w[24:26] = (32 + 1 + 28 + len(setup) + 2).to_bytes(2, "little")
    w[26] = len(setup) // 2
    return smb1(cmd, bytes(w) + setup, data, mid)


def secondary(cmd, total, disp, data, mid):
    w = bytearray(16 if cmd == 0x26 else 18)
    w[2:4] = total.to_bytes(2, "little")
    w[10:12] = len(data).to_bytes(2, "little")
    w[12:14] = (32 + 1 + len(w) + 2).to_bytes(2, "little")
    w[14:16] = disp.to_bytes(2, "little")
    return smb1(cmd, bytes(w), data, mid)


def dialects():
    """Both sides of the negotiation: SMB1 dialect strings and the server's choice of each, and
    SMB2 negotiate responses naming each dialect (and one that is none)."""
    offered = b"".join(b"\x02" + d + b"\x00" for d in (b"PC NETWORK PROGRAM 1.0", b"NT LM 0.12", b"SMB 2.002", b"SMB 2.???"))
    seeds = {}
    for index, name in ((1, "nt-lm"), (2, "smb2002"), (7, "out-of-range")):
        seeds[f"negotiate-smb1-{name}"] = records([(False, netbios(smb1(0x72, b"", offered))),
                                                    (True, netbios(smb1(0x72, index.to_bytes(2, "little"), b"", reply=True))),
                                                    (False, netbios(smb1(0x73, bytes(26), b"")))])
    for revision in (0x0202, 0x0210, 0x0300, 0x0302, 0x0311, 0x02ff):
        body = (65).to_bytes(2, "little") + (1).to_bytes(2, "little") + revision.to_bytes(2, "little") + bytes(58)
        negotiate = smb2(0, 0, (36).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(32) + (0x0311).to_bytes(2, "little"))
        seeds[f"negotiate-smb2-{revision:04x}"] = records([(False, netbios(negotiate)), (True, netbios(smb2_reply(0, body))),
                                                           (False, netbios(smb2(1, 0, bytes(24))))])
    return seeds


def smb2_shapes():
    """Compounds of three and more, a tree connect with its path where it says, a tree connect
    whose path runs past its message, transform headers, and a chain longer than the bound."""
    path = "\\\\console\\IPC$".encode("utf-16-le")
    tree = lambda nxt, length=len(path): smb2(3, nxt, bytes([9, 0, 0, 0, 72, 0]) + length.to_bytes(2, "little") + path)
    padded = lambda m: m + bytes(-len(m) % 8)
    first, second = padded(tree(0)), padded(smb2(5, 0, bytes(56)))
    compound = bytearray(first + second + smb2(11, 0, bytes(56)))
    compound[20:24] = len(first).to_bytes(4, "little")
    compound[len(first) + 20:len(first) + 24] = len(second).to_bytes(4, "little")
    echo = padded(smb2(13, 0, bytes(4)))
    long_chain = bytearray(echo * 40)
    for i in range(39):
        long_chain[i * len(echo) + 20:i * len(echo) + 24] = len(echo).to_bytes(4, "little")
    return {
        "smb2-compound-three": client(netbios(bytes(compound))),
        "smb2-tree-path-past-message": client(netbios(tree(0, 4000))),
        "smb2-chain-over-bound": client(netbios(bytes(long_chain))),
        "smb3-transform-headers": client(netbios(b"\xfdSMB" + bytes(48), b"\xfcSMB" + bytes(12))),
    }


def netbios_shapes():
    """Session-service frames before the SMB (a session request, a keepalive, a positive
    answer), a keepalive cut, a type NetBIOS does not have, and a message over 128 KiB."""
    request = b"\x81\x00\x00\x44" + b" " + b"CACACACACACACACACACACACACACACAAA\x00" + b" " + b"EMEPENEFECEFCACACACACACACACACAAA\x00"
    negotiate = netbios(smb1(0x72, b"", b"\x02NT LM 0.12\x00"))
    return {
        "session-service-first": records([(False, request), (True, b"\x82\x00\x00\x00"), (False, b"\x85\x00\x00\x00" + negotiate)]),
        "keepalive-first": client(b"\x85\x00\x00\x00" + negotiate),
        "keepalive-cut": client(b"\x85\x00\x00\x08abc", 3),
        "not-netbios": client(b"\x90\x00\x00\x04abcd"),
        "message-over-bound": client(b"\x00\x02\x00\x01" + bytes(64)),
    }


def write_shapes():
    """The write commands a pipe can be written with that the pipe seeds lack: WRITE_AND_CLOSE,
    WRITE_RAW (its data comes later: said cut), WRITE_AND_UNLOCK, a write whose data offset lies
    past its message, and NT_TRANSACT's pipe transceive ioctl."""
    bind = rpc(11, 3, 1, bytes.fromhex("b810b81000000000") + b"\x01\x00\x00\x00" + (0).to_bytes(2, "little") + b"\x01\x00" +
               bytes.fromhex("c84f324b7016d30112785a47bf6ee188") + (3).to_bytes(4, "little") +
               bytes.fromhex("045d888aeb1cc9119fe808002b104860") + (2).to_bytes(4, "little"))
    fid = (0x4001).to_bytes(2, "little")
    close = smb1(0x2c, fid + len(bind).to_bytes(2, "little") + bytes(8), b"\x00" + bind)
    unlock = smb1(0x14, fid + len(bind).to_bytes(2, "little") + bytes(6), b"\x01" + len(bind).to_bytes(2, "little") + bind)
    raw = smb1(0x1d, fid + len(bind).to_bytes(2, "little") + bytes(20), b"")
    past = bytearray(write_andx(0x4001, bind))
    past[32 + 1 + 22:32 + 1 + 24] = (4000).to_bytes(2, "little")
    ioctl_setup = (0x0011c017).to_bytes(4, "little") + fid + b"\x01\x00"
    transceive = nt_transact(2, len(bind), bind, 5, ioctl_setup)
    return {
        "write-and-close": client(netbios(close)),
        "write-and-unlock": client(netbios(unlock)),
        "write-raw": client(netbios(raw)),
        "write-offset-past-message": client(netbios(bytes(past))),
        "nt-transact-pipe-transceive": client(netbios(transceive)),
    }


def answer_shapes():
    """The server's side: DoublePulsar's answer to its ping (a TRANSACTION2 reply on MID 81),
    an NT_TRANSACT asking for more data than any client sends (EternalBlue's), a
    TRANS2 SESSION_SETUP and a PeekNamedPipe on FID 0."""
    ping = smb1(0x32, bytes(28) + b"\x0e\x00", b"", mid=65)
    return {
        "doublepulsar-answer": records([(False, netbios(ping)), (True, netbios(smb1(0x32, bytes(20), b"", mid=81, reply=True)))]),
        "nt-trans-oversized": client(netbios(nt_transact(0, 0x10ff0, bytes(100)))),
        "peek-named-pipe-fid0": client(netbios(transaction(0x25, 0, b"", 3, b"\x23\x00\x00\x00"))),
    }


def transaction_shapes():
    """The transaction table: more pending primaries than its bound, a secondary of another
    kind than its primary (and TRANS2's for an NT_TRANSACT), one past the primary's totals."""
    pending = [transaction(0x25, 400, bytes(10), mid) for mid in range(100, 118)]
    return {
        "transactions-over-bound": client(netbios(*pending)),
        "secondary-other-kind": client(netbios(transaction(0x25, 400, bytes(10), 7), secondary(0x33, 400, 10, bytes(10), 7))),
        "trans2-secondary-for-nt-trans": client(netbios(nt_transact(1, 400, bytes(10), 8), secondary(0x33, 400, 10, bytes(10), 8))),
        "secondary-beyond-total": client(netbios(transaction(0x25, 40, bytes(10), 9), secondary(0x26, 40, 30, bytes(30), 9))),
    }


def dcerpc_shapes():
    """DCE/RPC on a pipe: a big-endian bind and request, bytes that are no PDU after a bind, a
    PDU shorter than its header, a fragment of no request, an auth3, a bind on a pipe first
    written with something else, and a bind whose context list runs past its PDU."""
    srvsvc_be = bytes.fromhex("4b324fc81670 01d3 1278 5a47bf6ee188".replace(" ", ""))
    ndr_be = bytes.fromhex("8a885d04 1ceb 11c9 9fe808002b104860".replace(" ", ""))
    ctx_be = (0).to_bytes(2, "big") + b"\x01\x00" + srvsvc_be + (3).to_bytes(4, "big") + ndr_be + (2).to_bytes(4, "big")
    bind_be = rpc(11, 3, 1, bytes.fromhex("10b810b800000000") + b"\x01\x00\x00\x00" + ctx_be, drep=0)
    stub = "\\AAAA\\..\\..\\n".encode("utf-16-be")
    request_be = rpc(0, 3, 2, len(stub).to_bytes(4, "big") + (0).to_bytes(2, "big") + (31).to_bytes(2, "big") + stub, drep=0)
    bind = rpc(11, 3, 1, bytes.fromhex("b810b81000000000") + b"\x01\x00\x00\x00" + (0).to_bytes(2, "little") + b"\x01\x00" +
               bytes.fromhex("c84f324b7016d30112785a47bf6ee188") + (3).to_bytes(4, "little") +
               bytes.fromhex("045d888aeb1cc9119fe808002b104860") + (2).to_bytes(4, "little"))
    w = lambda data, fid=0x4001: write_andx(fid, data)
    short = bytearray(rpc(0, 3, 3, bytes(8)))
    short[8:10] = (8).to_bytes(2, "little")
    return {
        "dcerpc-big-endian": client(netbios(w(bind_be), w(rpc(16, 3, 1, bytes(4), drep=0)), w(request_be))),
        "dcerpc-benign-path": client(netbios(w(bind), w(rpc(0, 3, 2, (12).to_bytes(4, "little") + (0).to_bytes(2, "little") +
                                                             (31).to_bytes(2, "little") + bytes(4) +
                                                             (3).to_bytes(4, "little") * 3 + "C:\\x".encode("utf-16-le") + bytes(4))))),
        "dcerpc-not-a-pdu": client(netbios(w(bind), w(b"\x04\x00" + bytes(20)))),
        "dcerpc-shorter-than-header": client(netbios(w(bind), w(bytes(short)))),
        "dcerpc-fragment-of-no-request": client(netbios(w(bind), w(rpc(0, 2, 9, bytes(8) + b"tail")),
                                                        w(rpc(16, 3, 1, bytes(4))))),
        "dcerpc-file-then-bind": client(netbios(w(b"plain file bytes"), w(bind), w(rpc(0, 3, 2, bytes(8))))),
        "dcerpc-pipe-opened-slowly": client(netbios(w(bind[:2]), w(bind[2:]))),
        "dcerpc-context-list-past-pdu": client(netbios(w(bind[:-30]))),
    }


def smb2_related_to_create(data):
    """An SMB2 CREATE and, related to it ([MS-SMB2] 2.2.1.2 SMB2_FLAGS_RELATED_OPERATIONS), a
    pipe write on the file it opens."""
    create = smb2(5, 0, (57).to_bytes(2, "little") + bytes(54))
    create += bytes(-len(create) % 8)
    write = bytearray(smb2(9, 0, (49).to_bytes(2, "little") + (112).to_bytes(2, "little") + len(data).to_bytes(4, "little") +
                           bytes(8) + b"\xff" * 16 + bytes(16) + data))
    write[16] = 0x04
    compound = bytearray(create + bytes(write))
    compound[20:24] = len(create).to_bytes(4, "little")
    return bytes(compound)


def chain_write(first, write):
    """`first` (an AndX command naming WRITE_ANDX next) with `write`'s command block chained
    after it: the AndX offset pointed at the block, the block's DataOffset at its own data."""
    chain = bytearray(first)
    chain[33:35] = b"\x2f\x00"
    chain[35:37] = len(chain).to_bytes(2, "little")
    block = bytearray(write[32:])
    block[23:25] = (len(chain) + 1 + 24 + 2).to_bytes(2, "little")
    return bytes(chain) + bytes(block)


def chained_after_read(fid, data):
    """READ_ANDX on `fid` with a WRITE_ANDX (another FID, `data`) chained to it."""
    return chain_write(smb1(0x2e, b"\x2f\x00" + bytes(2) + fid.to_bytes(2, "little") + bytes(14), b""),
                       write_andx(0x7777, data))


def refused(reply, status=0xc000000d):
    """The reply with an NT status of error severity."""
    m = bytearray(reply)
    m[5:9] = status.to_bytes(4, "little")
    return bytes(m)


def other_tree(message):
    """The message under TID 5: a FID the server only takes under the tree that opened it."""
    m = bytearray(message)
    m[24] = 5
    return bytes(m)


def evasion_shapes():
    """Evasions of the virtual patches crafted against the reader, as the server would act on each: a
    primary with no data and its secondary with all of it, a chained write naming another FID,
    one chained to an open, a raw-mode message in pieces (in order, with a write between, a
    piece never begun, a second start), a raw piece on a waiting transaction's MID, a primary
    again under another PIDHigh, a request flagged as a reply, SMB_COM_WRITE with buffer format
    0, a re-bind by ALTER_CONTEXT, an undefined integer representation, a sealed call, a 33rd pipe."""
    srvsvc = bytes.fromhex("c84f324b7016d30112785a47bf6ee188") + (3).to_bytes(4, "little")
    ndr = bytes.fromhex("045d888aeb1cc9119fe808002b104860") + (2).to_bytes(4, "little")
    bind = rpc(11, 3, 1, bytes.fromhex("b810b81000000000") + b"\x01\x00\x00\x00" + bytes(2) + b"\x01\x00" + srvsvc + ndr)
    stub = "\\A\\..\\..\\x".encode("utf-16-le")
    call = rpc(0, 3, 2, len(stub).to_bytes(4, "little") + bytes(2) + (31).to_bytes(2, "little") + stub)
    message = bind + call
    fid = 0x4001
    create = smb1(0xa2, b"\x2f\x00" + bytes(46), b"")
    pieces = [write_andx(fid, b"\xff\xff" + message[:30], mode=0x000c, remaining=len(message)),
              write_andx(fid, message[30:], mode=0x0004)]
    pid_high = bytearray(transaction(0x25, 400, bytes(16), 9))
    pid_high[12] = 1
    reply = bytearray(write_andx(fid, message))
    reply[9] = 0x98
    core = smb1(0x0b, fid.to_bytes(2, "little") + len(message).to_bytes(2, "little") + bytes(6),
                b"\x00" + len(message).to_bytes(2, "little") + message)
    dssetup = bytes.fromhex("6a2819390cb1d0119ba800c04fd92ef5") + bytes(4)
    lsarpc = bytes.fromhex("785734123412cdabef000123456789ab") + bytes(4)
    ctx = lambda iface: bytes(2) + b"\x01\x00" + iface + ndr
    rebind = rpc(11, 3, 1, bytes.fromhex("b810b81000000000") + b"\x01\x00\x00\x00" + ctx(dssetup)) + \
        rpc(14, 3, 1, bytes.fromhex("b810b81000000000") + b"\x01\x00\x00\x00" + ctx(lsarpc)) + \
        rpc(0, 3, 2, (32).to_bytes(4, "little") + bytes(2) + (9).to_bytes(2, "little") + b"A" * 32)
    odd_drep = bytearray(call)
    odd_drep[4] = 0x30
    sealed = bytearray(call + b"\x0a\x06\x00\x00" + bytes(4) + bytes(16))
    sealed[8:10] = len(sealed).to_bytes(2, "little")
    sealed[10:12] = (16).to_bytes(2, "little")
    return {
        "evasion-primary-without-data": client(netbios(transaction(0x25, len(message), b"", 7, (0x26).to_bytes(2, "little") + fid.to_bytes(2, "little")),
                                                       secondary(0x26, len(message), 0, message, 7))),
        "evasion-chained-other-fid": client(netbios(chain_write(write_andx(fid, bind), write_andx(0x7777, call)))),
        "evasion-chained-to-open": client(netbios(chain_write(create, write_andx(fid, bind)))),
        "evasion-raw-pieces": client(netbios(*pieces)),
        "evasion-raw-pieces-interleaved": client(netbios(pieces[0], write_andx(fid, bind), pieces[1])),
        "evasion-raw-piece-never-begun": client(netbios(pieces[1])),
        "evasion-raw-second-start": client(netbios(pieces[0], pieces[0])),
        "evasion-raw-piece-on-pending-mid": client(netbios(transaction(0x25, 400, bytes(16), fid), write_andx(fid, bytes(64), 99, 0x0004))),
        "evasion-pid-high": client(netbios(transaction(0x25, 400, bytes(16), 9), bytes(pid_high))),
        "evasion-reply-flag": client(netbios(bytes(reply))),
        "evasion-write-format-0": client(netbios(core)),
        "evasion-alter-rebind": client(netbios(write_andx(fid, rebind))),
        "evasion-odd-drep": client(netbios(write_andx(fid, bind + bytes(odd_drep)))),
        "evasion-sealed": client(netbios(write_andx(fid, bind + bytes(sealed)))),
        "evasion-33-pipes": client(netbios(*[write_andx(0x100 + i, bind) for i in range(33)])),
        "evasion-raw-pieces-past-length": client(netbios(write_andx(fid, b"\xff\xff" + message[:30], mode=0x000c, remaining=20))),
        "evasion-smb2-related-to-create": client(netbios(smb2_related_to_create(call))),
        "evasion-write-after-read": client(netbios(chained_after_read(fid, call))),
        # A write netmon read into the pipe, then the server's refusal of it (INVALID_PARAMETER).
        "evasion-refused-write": records([(False, netbios(write_andx(fid, bind, 4))),
                                          (True, netbios(refused(smb1(0x2f, bytes(12), b"", 4, reply=True)))),
                                          (False, netbios(write_andx(fid, call, 5)))]),
        "evasion-short-bind-start": client(netbios(write_andx(fid, b"ABCD"), write_andx(fid, bind[:2]), write_andx(fid, bind[2:] + call))),
        "evasion-other-tid": client(netbios(other_tree(write_andx(fid, bind[:28])), write_andx(fid, message))),
    }


def every_command():
    """One request of each SMB1 command code, then the same as the server's answers."""
    messages = [smb1(code, b"", b"", mid=200 + i) for i, code in enumerate(SMB1_COMMANDS)]
    replies = [smb1(code, b"", b"", mid=200 + i, reply=True) for i, code in enumerate(SMB1_COMMANDS)]
    return {"every-smb1-command": records([(False, netbios(*messages)), (True, netbios(*replies))])}


def write_seeds(write):
    for shapes in (dialects(), smb2_shapes(), netbios_shapes(), write_shapes(), answer_shapes(), transaction_shapes(),
                   dcerpc_shapes(), evasion_shapes(), every_command()):
        for name, seed in shapes.items():
            write("fuzz_smb", name, seed)
