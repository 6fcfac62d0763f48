#!/usr/bin/python3
"""The start of an RDP connection with standard RDP security, as a client that asks for the
channels it is given ([MS-RDPBCGR] 2.2.1.1-2.2.1.3), and a server that answers the connection
request and records what it receives. Asking for MS_T120 is what BlueKeep (CVE-2019-0708)
exploits do; no exploit code is here, only the channel request that identifies one.

Usage: rdp_probe.py server BIND_IP PORT LOG_FILE      (one line per TPKT received, in hex)
       rdp_probe.py client HOST PORT CHANNEL...        (prints "confirmed", then "sent" or the error)
"""
import socket
import struct
import sys
import threading


def tpkt(payload):
    return struct.pack("!BBH", 3, 0, len(payload) + 4) + payload


def connection_request():
    x224 = bytes([0xE0, 0, 0, 0, 0, 0]) + b"Cookie: mstshash=probe\r\n" + struct.pack("<BBHI", 1, 0, 8, 0)
    return tpkt(bytes([len(x224)]) + x224)


def connection_confirm():
    x224 = bytes([0xD0, 0, 0, 0x12, 0x34, 0]) + struct.pack("<BBHI", 2, 0, 8, 0)  # standard RDP security
    return tpkt(bytes([len(x224)]) + x224)


def ber(tag, content):
    """A BER element with a definite length (long form past 127)."""
    length = bytes([len(content)]) if len(content) < 0x80 else b"\x82" + struct.pack("!H", len(content))
    return bytes([tag]) + length + content


def per_length(n, short=False):
    """An aligned-PER length: two bytes as mstsc writes them, or one below 128 as X.691 allows
    (and FreeRDP writes)."""
    return bytes([n]) if short and n < 0x80 else struct.pack("!H", 0x8000 | n)


def connect_initial(channels, short_lengths=False):
    """X.224 Data with an MCS Connect-Initial ([T.125]) as mstsc and FreeRDP encode it
    ([MS-RDPBCGR] 4.1.3): domain selectors, upward flag, three domain parameter sets, and the
    GCC Conference Create Request whose client data asks for `channels`."""
    core = struct.pack("<HHI", 0xC001, 8, 0x00080004)  # CS_CORE, cut to its version
    net = struct.pack("<HHI", 0xC003, 8 + 12 * len(channels), len(channels))
    net += b"".join(c.encode()[:7].ljust(8, b"\0") + struct.pack("<I", 0x80800000) for c in channels)
    blocks = core + net
    request = bytes([0, 8, 0, 0x10, 0, 1, 0xC0, 0]) + b"Duca" + per_length(len(blocks), short_lengths) + blocks
    gcc = bytes([0, 5, 0, 0x14, 0x7C, 0, 1]) + per_length(len(request), short_lengths) + request
    params = ber(0x30, bytes.fromhex("020122020102020100020101020100020101020300ffff020102"))
    body = ber(0x04, b"\x01") + ber(0x04, b"\x01") + b"\x01\x01\xff" + params * 3 + ber(0x04, gcc)
    mcs = b"\x7f" + ber(0x65, body)
    return tpkt(bytes([0x02, 0xF0, 0x80]) + mcs)


def read_tpkt(conn):
    header = b""
    while len(header) < 4:
        chunk = conn.recv(4 - len(header))
        if not chunk:
            return None
        header += chunk
    body = b""
    length = struct.unpack("!H", header[2:4])[0] - 4
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return header + body


def serve(bind_ip, port, log_path):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((bind_ip, port))
    listener.listen()

    def handle(conn):
        with conn:
            try:
                while (t := read_tpkt(conn)) is not None:
                    with open(log_path, "a") as log:
                        log.write(t.hex() + "\n")
                    if t[5] & 0xF0 == 0xE0:
                        conn.sendall(connection_confirm())
            except OSError:
                pass

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def probe(host, port, channels):
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(connection_request())
        if read_tpkt(s) is None:
            print("closed")
            return
        print("confirmed", flush=True)
        try:
            s.sendall(connect_initial(channels))
            # The server says nothing more here; a reset from the wire says the request was cut.
            s.settimeout(1)
            print("closed" if s.recv(100) == b"" else "answered")
        except socket.timeout:
            print("sent")
        except OSError as e:
            print(type(e).__name__)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        probe(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
