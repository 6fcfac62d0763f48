#!/usr/bin/python3
"""Samba's smbd as an XP-era file server: SMB1 only (an XP console speaks nothing newer), one
guest share, every file of its state under WORKDIR, and a log at level 3 that names each
command it was sent ("switch message SMBtranss ..."): what reached the server. Its maximum
buffer is held to 2048 bytes (smb.conf's `max xmit`, Samba's floor), so that a client's
larger transactions go as a primary and its secondaries, as they did to XP-era servers.
A test stand-in only.

Usage: samba_server.py WORKDIR SHARE PATH LISTEN_IP     (runs smbd in the foreground)
The log is WORKDIR/smbd.log.
"""
import os
import sys
from pathlib import Path

CONF = """[global]
  server role = standalone server
  server min protocol = NT1
  server max protocol = NT1
  map to guest = Bad User
  guest account = root
  lock directory = {state}
  state directory = {state}
  cache directory = {state}
  private dir = {state}
  pid directory = {state}
  ncalrpc dir = {state}/ncalrpc
  binddns dir = {state}/bind-dns
  smb ports = 445
  interfaces = {listen}
  bind interfaces only = yes
  disable netbios = yes
  load printers = no
  printcap name = /dev/null
  log level = 3
  max log size = 0
  max xmit = 2048
[{share}]
  path = {path}
  guest ok = yes
  read only = no
"""


def main():
    work, share, path, listen = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    state = work / "state"
    state.mkdir(parents=True, exist_ok=True)
    conf = work / "smb.conf"
    conf.write_text(CONF.format(state=state, listen=listen, share=share, path=path))
    log = open(work / "smbd.log", "ab")
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    # smbd ends its children by signalling its process group: a group of its own, so that the
    # shell or test that started it is not in it.
    os.setsid()
    os.execvp("smbd", ["smbd", "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)])


if __name__ == "__main__":
    main()
