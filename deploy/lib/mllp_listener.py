#!/usr/bin/python3
"""A pharmacy's HL7 v2 listener: accepts MLLP connections, appends each message to a file as
one line (segments joined by ' | '), and answers with an ACK.

Usage: mllp_listener.py BIND_IP PORT OUT_FILE
"""
import socketserver
import sys

START, END = b"\x0b", b"\x1c\r"


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        buf = b""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            buf += chunk
            while START in buf and END in buf:
                msg = buf[buf.index(START) + 1:buf.index(END)]
                buf = buf[buf.index(END) + 2:]
                text = msg.decode("utf-8", "replace").strip("\r").replace("\r", " | ")
                with open(sys.argv[3], "a") as out:
                    out.write(text + "\n")
                control = msg.split(b"|")[9] if msg.count(b"|") > 9 else b""
                self.request.sendall(START + b"MSH|^~\\&|PHARMACY|HOSP|||||ACK|1|P|2.5\rMSA|AA|" +
                                     control + b"\r" + END)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
