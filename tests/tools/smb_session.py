#!/usr/bin/python3
"""An SMB1 client session with python3-impacket, as a cabinet's would go, and optionally the
MS08-067 request: a srvsvc NetprPathCanonicalize call whose path climbs out of its directory
(what Conficker sends; nothing here exploits anything, the server is impacket's).

Usage: smb_session.py HOST SHARE [--ms08-067 | --benign-path | --long-path] [--fragment N]
                       [--bogus-binds N | --alter-context]
  --benign-path  the same call with a path that stays where it is
  --long-path    the same call with a path longer than MAX_PATH (what MS06-040's exploit sends)
  --fragment N   DCE/RPC fragments of at most N bytes (impacket's max fragment size), each
                 written to the pipe on its own
  --bogus-binds N  the bind lists N other presentation contexts before srvsvc's (impacket's own
                 option, as Metasploit's ms08_067_netapi binds)
  --alter-context  the bind names another interface (wkssvc, which the pipe refuses), then an
                 ALTER_CONTEXT adds srvsvc on a context of its own, and the call goes on that one
Prints one line per step: "files N"; "canonicalize answered", "canonicalize refused by the
server ..." or "canonicalize cut ..." (the connection went); or the error that ended the session.
"""
import sys

from impacket.dcerpc.v5 import srvs, transport, wkst
from impacket.dcerpc.v5.rpcrt import DCERPCException
from impacket.smbconnection import SMB_DIALECT, SMBConnection


def main():
    host, share = sys.argv[1], sys.argv[2]
    try:
        conn = SMBConnection(host, host, sess_port=445, preferredDialect=SMB_DIALECT, timeout=5)
        conn.login("", "")
        print("files", len(conn.listPath(share, "*")), flush=True)
        paths = {"--ms08-067": "\\A\\..\\..\\x\x00", "--benign-path": "\\A\\B\\x\x00",
                 "--long-path": "\\" + "A" * 300 + "\x00"}
        path = next((p for flag, p in paths.items() if flag in sys.argv), None)
        if path is not None:
            rpc = transport.SMBTransport(host, filename=r"\srvsvc", smb_connection=conn)
            dce = rpc.get_dce_rpc()
            if "--fragment" in sys.argv:
                dce.set_max_fragment_size(int(sys.argv[sys.argv.index("--fragment") + 1]))
            dce.connect()
            if "--alter-context" in sys.argv:
                try:
                    dce.bind(wkst.MSRPC_UUID_WKST)
                except DCERPCException:  # the server refuses wkssvc on this pipe, as it should
                    pass
                dce = dce.alter_ctx(srvs.MSRPC_UUID_SRVS)
            else:
                bogus = int(sys.argv[sys.argv.index("--bogus-binds") + 1]) if "--bogus-binds" in sys.argv else 0
                dce.bind(srvs.MSRPC_UUID_SRVS, bogus_binds=bogus)
            try:
                srvs.hNetprPathCanonicalize(dce, path, "\\\x00", 1)
                print("canonicalize answered", flush=True)
            except DCERPCException as e:  # the server's own refusal: the request got there
                print("canonicalize refused by the server", type(e).__name__, flush=True)
            except Exception as e:  # the connection went: the request was cut on the way
                print("canonicalize cut", type(e).__name__, flush=True)
    except Exception as e:
        print("error", type(e).__name__, str(e).splitlines()[0] if str(e) else "", flush=True)


if __name__ == "__main__":
    main()
