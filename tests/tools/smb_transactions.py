#!/usr/bin/python3
"""SMB1 transaction sequences of the MS17-010 exploit family, sent in an anonymous session
that python3-impacket opens (negotiate, session setup, IPC$, the srvsvc pipe), the requests
laid out byte by byte from [MS-CIFS] 2.2.4.33-34 (TRANSACTION and its secondary), 2.2.4.46-47
(TRANSACTION2's) and 2.2.4.62-63 (NT_TRANSACT's). No exploit framework runs here: these are the
shapes EternalBlue, EternalChampion and EternalRomance set their primitives up with, without
their payloads. Nothing here exploits anything.

Usage: smb_transactions.py HOST SHAPE
  nt-rename-then-secondary  NT_TRANSACT_RENAME (Windows implements no such function), then in the
                            same segment its NT_TRANSACT_SECONDARY (EternalChampion's race)
  secondary-after-complete  a TRANSACTION whose data is complete, then a TRANSACTION_SECONDARY for it
  write-on-pending-mid      a TRANSACTION still waiting for data, then a WRITE_ANDX on its MID
                            (EternalRomance's grooming)
  secondary-beyond-total    a TRANSACTION_SECONDARY whose data runs past the primary's total
  nt-trans-by-trans2        an NT_TRANSACT continued by a TRANSACTION2_SECONDARY (EternalBlue's)
  secondary-other-kind      a TRANSACTION continued by a TRANSACTION2_SECONDARY
  transactions-over-bound   17 TRANSACTIONs left waiting for their data
  complete-with-secondary   a TRANSACTION on the pipe whose data its secondary completes (benign)
Prints "files N", then one line per request sent: "answered NAME" (the server's answer to it
came: its command's name), "silent" (no answer in 2 s: a server's own wait for a secondary, or
a request answered by nothing), or "cut ERROR" (the connection went); or the error that ended
the session.
"""
import os
import sys

from impacket.smbconnection import SMB_DIALECT, SMBConnection

NAMES = {0x25: "TRANSACTION", 0x26: "TRANSACTION_SECONDARY", 0x2f: "WRITE_ANDX", 0x32: "TRANSACTION2",
         0x33: "TRANSACTION2_SECONDARY", 0xa0: "NT_TRANSACT", 0xa1: "NT_TRANSACT_SECONDARY"}
HEADER = 32
# A DCE/RPC bind of srvsvc 3.0 with NDR ([C706] 12.6.4.3), as a client opens the pipe with.
BIND = bytes.fromhex("05000b03100000004800000001000000b810b810000000000100000000000100"
                     "c84f324b7016d30112785a47bf6ee18803000000045d888aeb1cc9119fe808002b10486002000000")


class Session:
    def __init__(self, host):
        self.conn = SMBConnection(host, host, sess_port=445, preferredDialect=SMB_DIALECT, timeout=5)
        self.conn.login("", "")
        print("files", len(self.conn.listPath("CABINETDATA", "*")), flush=True)
        self.tid = self.conn.connectTree("IPC$")
        self.fid = self.conn.openFile(self.tid, "\\srvsvc")
        self.smb = self.conn.getSMBServer()

    def message(self, cmd, words, data, mid):
        """An SMB1 request of this session: header ([MS-CIFS] 2.2.3.1), words, bytes."""
        pid = os.getpid() & 0xffff
        header = b"\xffSMB" + bytes([cmd]) + bytes(4) + b"\x18" + (0xc807).to_bytes(2, "little") + bytes(12) + \
            self.tid.to_bytes(2, "little") + pid.to_bytes(2, "little") + self.smb._uid.to_bytes(2, "little") + \
            mid.to_bytes(2, "little")
        return header + bytes([len(words) // 2]) + words + len(data).to_bytes(2, "little") + data

    def send(self, *messages):
        """The messages in one TCP segment, then what the server answers to the last one."""
        self.smb._sess.get_socket().sendall(b"".join(len(m).to_bytes(4, "big") + m for m in messages))
        try:
            answer = self.smb._sess.recv_packet(2).get_trailer()
            print("answered", NAMES.get(answer[4], hex(answer[4])), flush=True)
        except Exception as e:  # a timeout, or the connection went
            name = type(e).__name__
            print("silent" if "timeout" in name.lower() or "timed out" in str(e) else f"cut {name}", flush=True)

    def transaction(self, total, data, mid, setup=None):
        """TRANSACTION: TransactNmPipe on the srvsvc pipe unless other setup words are given."""
        setup = setup if setup is not None else (0x26).to_bytes(2, "little") + self.fid.to_bytes(2, "little")
        w = bytearray(28)
        w[2:4] = total.to_bytes(2, "little")
        w[4:6] = (1024).to_bytes(2, "little")  # MaxParameterCount
        w[6:8] = (1024).to_bytes(2, "little")  # MaxDataCount
        w[22:24] = len(data).to_bytes(2, "little")
        name = b"\\\x00P\x00I\x00P\x00E\x00\\\x00\x00\x00"
        w[24:26] = (HEADER + 1 + 28 + len(setup) + 2 + 1 + len(name)).to_bytes(2, "little")  # DataOffset
        w[26] = len(setup) // 2
        return self.message(0x25, bytes(w) + setup, b"\x00" + name + data, mid)

    def secondary(self, cmd, total, disp, data, mid):
        """TRANSACTION_SECONDARY (8 words) or TRANSACTION2_SECONDARY (9: with a FID)."""
        w = bytearray(16 if cmd == 0x26 else 18)
        w[2:4] = total.to_bytes(2, "little")
        w[10:12] = len(data).to_bytes(2, "little")
        w[12:14] = (HEADER + 1 + len(w) + 2).to_bytes(2, "little")
        w[14:16] = disp.to_bytes(2, "little")
        return self.message(cmd, bytes(w), data, mid)

    def nt_transact(self, function, total, data, mid):
        w = bytearray(38)
        w[0] = 1
        w[7:11] = total.to_bytes(4, "little")
        w[11:15] = (1024).to_bytes(4, "little")
        w[15:19] = (1024).to_bytes(4, "little")
        w[27:31] = len(data).to_bytes(4, "little")
        w[31:35] = (HEADER + 1 + 38 + 2).to_bytes(4, "little")
        w[36:38] = function.to_bytes(2, "little")
        return self.message(0xa0, bytes(w), data, mid)

    def nt_secondary(self, total, disp, data, mid):
        w = bytearray(36)
        w[7:11] = total.to_bytes(4, "little")
        w[23:27] = len(data).to_bytes(4, "little")
        w[27:31] = (HEADER + 1 + 36 + 2).to_bytes(4, "little")
        w[31:35] = disp.to_bytes(4, "little")
        return self.message(0xa1, bytes(w), data, mid)

    def write_andx(self, data, mid):
        w = b"\xff\x00\x00\x00" + self.fid.to_bytes(2, "little") + bytes(8) + bytes(2) + bytes(2) + bytes(2) + \
            len(data).to_bytes(2, "little") + (HEADER + 1 + 24 + 2).to_bytes(2, "little")
        return self.message(0x2f, w, data, mid)


def shapes(s):
    """Each shape: the requests, one list a segment."""
    return {
        "nt-rename-then-secondary": [[s.nt_transact(5, 64, bytes(16), 40), s.nt_secondary(64, 16, bytes(48), 40)]],
        "secondary-after-complete": [[s.transaction(16, bytes(16), 41)], [s.secondary(0x26, 16, 0, bytes(16), 41)]],
        "write-on-pending-mid": [[s.transaction(400, bytes(16), 42)], [s.write_andx(bytes(64), 42)]],
        "secondary-beyond-total": [[s.transaction(64, bytes(16), 43)], [s.secondary(0x26, 64, 16, bytes(96), 43)]],
        "nt-trans-by-trans2": [[s.nt_transact(1, 400, bytes(16), 44)], [s.secondary(0x33, 400, 16, bytes(64), 44)]],
        "secondary-other-kind": [[s.transaction(400, bytes(16), 45)], [s.secondary(0x33, 400, 16, bytes(64), 45)]],
        "transactions-over-bound": [[s.transaction(400, bytes(16), 100 + i)] for i in range(17)],
        "complete-with-secondary": [[s.transaction(len(BIND), BIND[:40], 46)], [s.secondary(0x26, len(BIND), 40, BIND[40:], 46)]],
    }


def main():
    host, shape = sys.argv[1], sys.argv[2]
    try:
        s = Session(host)
        for segment in shapes(s)[shape]:
            s.send(*segment)
    except Exception as e:
        print("error", type(e).__name__, str(e).splitlines()[0] if str(e) else "", flush=True)


if __name__ == "__main__":
    main()
