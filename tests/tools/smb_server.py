#!/usr/bin/python3
"""python3-impacket's SMB server with one share, whose server service (srvsvc) also answers on
the BROWSER pipe, as Windows' does: nmap's smb-vuln-ms08-067 opens "\\\\BROWSER", so against
impacket's plain smbserver it stops before its NetprPathCompare call. A test stand-in only.

Usage: smb_server.py SHARE PATH     (listens on 0.0.0.0:445 until killed)
Logs as impacket's example server does (INFO): what reached it, e.g. "Unsupported DCERPC opnum".
"""
import logging
import sys

from impacket import smbserver
from impacket.examples import logger

# nmap names the pipe "\\BROWSER", which impacket normalises to "/BROWSER" and then refuses as
# a path outside the IPC$ share; pipes are not paths, so their names are let through.
BROWSER_NAMES = ("browser", "BROWSER", "/BROWSER")
_in_jail = smbserver.isInFileJail


def _pipe_or_in_jail(path, file_name):
    return file_name in BROWSER_NAMES or _in_jail(path, file_name)


def main():
    share, path = sys.argv[1], sys.argv[2]
    logger.init()
    logging.getLogger().setLevel(logging.INFO)
    smbserver.isInFileJail = _pipe_or_in_jail
    server = smbserver.SimpleSMBServer(listenAddress="0.0.0.0", listenPort=445)
    server.addShare(share, path)
    server.setSMB2Support(False)
    # impacket keeps its srvsvc server private; its port is what the \srvsvc pipe forwards to.
    srvs = server._SimpleSMBServer__srvsServer
    for name in BROWSER_NAMES:  # matched as sent, case and all
        server.registerNamedPipe(name, ("127.0.0.1", srvs.getListenPort()))
    server.start()


if __name__ == "__main__":
    main()
