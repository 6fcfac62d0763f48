#!/usr/bin/python3
"""An HL7 v2 sender over MLLP, as a cabinet's would be: sends each message given on one
connection, each cut into segments of at most SEGMENT bytes (TCP_NODELAY and a pause between
them, so that they leave as separate segments), waits for its answer, and prints one line per
message: "ack" (MSA|AA), "closed" (the connection went), "other", or the error that ended it.

Usage: hl7_send.py HOST PORT SEGMENT MESSAGE...   (segments separated by a literal \\r)
"""
import socket
import sys
import time


def main():
    host, port, segment = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    s = socket.create_connection((host, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for text in sys.argv[4:]:
        frame = b"\x0b" + text.replace("\\r", "\r").encode() + b"\x1c\r"
        try:
            for i in range(0, len(frame), segment):
                s.sendall(frame[i:i + segment])
                time.sleep(0.05)
            data = s.recv(4096)
            print("ack" if b"MSA|AA" in data else "closed" if not data else "other", flush=True)
        except OSError as e:
            print(type(e).__name__, flush=True)
            break


if __name__ == "__main__":
    main()
