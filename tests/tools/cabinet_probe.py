#!/usr/bin/python3
"""What a dispensing cabinet does on the network, measured: one MLLP session kept open with an
order every INTERVAL seconds (each acknowledged), and a new connection every second (connect,
one order, its ACK, close). Runs for SECONDS, then prints one JSON object:
  {"session_acks": N, "session_max_gap_s": S, "session_error": "" or why it ended,
   "connections": [{"at": T, "ok": true|false, "seconds": S, "error": ""}, ...]}

Usage: cabinet_probe.py HOST PORT SECONDS [INTERVAL]
"""
import json
import socket
import sys
import threading
import time

START, END = b"\x0b", b"\x1c\r"
# A connection that does not open and answer within this is a failure: the cabinet's own HL7
# engine gives up on an order after a few seconds.
CONNECT_TIMEOUT_S = 3


def order(control):
    return (START + b"MSH|^~\\&|CABINET|WARD3|PHARMACY|MAIN|20261201090000||RDE^O11^RDE_O11|" +
            control.encode() + b"|P|2.5\rPID|1||PAT-0042^^^HOSP^MR||DOE^JANE\rRXE|1|AMOX500^Amoxicillin|500||mg\r" + END)


def exchange(sock, control):
    """Sends one order and reads up to its ACK."""
    sock.sendall(order(control))
    buf = b""
    while END not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the ACK")
        buf += chunk
    if b"MSA|AA|" + control.encode() not in buf:
        raise ConnectionError("not the ACK of " + control)


def keep_session(host, port, seconds, interval, result):
    deadline = time.monotonic() + seconds
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as s:
            s.settimeout(CONNECT_TIMEOUT_S)
            last = time.monotonic()
            n = 0
            while time.monotonic() < deadline:
                exchange(s, f"S{n}")
                now = time.monotonic()
                result["session_max_gap_s"] = max(result["session_max_gap_s"], now - last)
                last = now
                n += 1
                result["session_acks"] = n
                time.sleep(interval)
    except Exception as e:  # noqa: BLE001 (what ended the session is the result)
        result["session_error"] = f"{type(e).__name__}: {e}"


def new_connections(host, port, seconds, result):
    started = time.monotonic()
    k = 0
    while time.monotonic() - started < seconds:
        at = time.monotonic()
        entry = {"at": round(at - started, 3), "ok": False, "seconds": 0.0, "error": ""}
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as s:
                s.settimeout(CONNECT_TIMEOUT_S)
                exchange(s, f"N{k}")
            entry["ok"] = True
        except Exception as e:  # noqa: BLE001
            entry["error"] = f"{type(e).__name__}: {e}"
        entry["seconds"] = round(time.monotonic() - at, 3)
        result["connections"].append(entry)
        k += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - at)))


def main():
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
    result = {"session_acks": 0, "session_max_gap_s": 0.0, "session_error": "", "connections": []}
    threads = [threading.Thread(target=keep_session, args=(host, port, seconds, interval, result)),
               threading.Thread(target=new_connections, args=(host, port, seconds, result))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
