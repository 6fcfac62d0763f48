#!/usr/bin/env python3
"""A stand-in for vitrine-netmon in hostd's unit tests: takes --control SOCKET and --lock FILE
as netmon does, holds the lock (a POSIX record lock, as vitrine/common/process_lock.h takes),
and answers every request on the control socket as a ready netmon does. Ends on SIGTERM."""
import fcntl
import json
import os
import signal
import socket
import sys

args = sys.argv[1:]
control = args[args.index("--control") + 1]
lock_path = args[args.index("--lock") + 1]
lock = open(lock_path, "a+")
fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
if os.path.exists(control):
    os.unlink(control)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(control)
server.listen(8)
while True:
    client, _ = server.accept()
    with client:
        client.makefile().readline()
        client.sendall((json.dumps({"ok": True, "ready": True, "pid": os.getpid(),
                                    "policy": {"sha256": "fake"}}) + "\n").encode())
