#!/usr/bin/python3
"""One DCE/RPC call on a named pipe, with python3-impacket, in an anonymous SMB1 session: the
bind of INTERFACE (uuid:version), then operation OPNUM with STUB as its NDR body. Stands in for
what XP-era worms sent (Sasser's dssetup DsRolerUpgradeDownlevelServer call, Zotob's Plug and
Play PNP_QueryResConfList call) and for the benign calls on the same interfaces, without any
worm's payload: the stub is a string of As. Nothing here exploits anything.

Usage: rpc_call.py HOST PIPE INTERFACE OPNUM [--string N | --stub HEX]
  --string N   the stub: an NDR unique pointer to a conformant varying string of N characters
  --stub HEX   the stub as given (the default: an empty stub)
Prints "bound" (or "bind refused ..."), then "answered", "refused by the server ERROR" (the
call got there) or "cut ERROR" (the connection went); or the error that ended the session.
"""
import struct
import sys

from impacket.dcerpc.v5 import transport
from impacket.dcerpc.v5.rpcrt import DCERPCException
from impacket.smbconnection import SMB_DIALECT, SMBConnection
from impacket.uuid import uuidtup_to_bin


def ndr_string(n):
    """A unique pointer's referent id, then maximum, offset, actual count, the characters (UTF-16,
    with their NUL) and padding to 4 ([C706] 14.3.4)."""
    chars = ("A" * n + "\x00").encode("utf-16-le")
    count = n + 1
    return struct.pack("<IIII", 0x00020000, count, 0, count) + chars + bytes(-len(chars) % 4)


def main():
    host, pipe, interface, opnum = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    stub = b""
    if "--string" in sys.argv:
        stub = ndr_string(int(sys.argv[sys.argv.index("--string") + 1]))
    elif "--stub" in sys.argv:
        stub = bytes.fromhex(sys.argv[sys.argv.index("--stub") + 1])
    try:
        conn = SMBConnection(host, host, sess_port=445, preferredDialect=SMB_DIALECT, timeout=5)
        conn.login("", "")
        dce = transport.SMBTransport(host, filename=pipe, smb_connection=conn).get_dce_rpc()
        dce.connect()
        uuid, version = interface.split(":")
        try:
            dce.bind(uuidtup_to_bin((uuid, version)))
            print("bound", flush=True)
        except DCERPCException as e:  # refused: a worm calls anyway
            print("bind refused", str(e).split(":")[0], flush=True)
        try:
            dce.call(opnum, stub)
            dce.recv()
            print("answered", flush=True)
        except DCERPCException as e:
            print("refused by the server", type(e).__name__, flush=True)
        except Exception as e:  # the connection went: the call was cut on the way
            print("cut", type(e).__name__, flush=True)
    except Exception as e:
        print("error", type(e).__name__, str(e).splitlines()[0] if str(e) else "", flush=True)


if __name__ == "__main__":
    main()
