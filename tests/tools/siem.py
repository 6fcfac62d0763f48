"""Debian's rsyslogd as the SIEM a site forwards vitrine's events to: it listens on loopback
(UDP and TCP), parses each message with its own RFC 5424 parser, and writes what it understood
(version, PRI, facility, severity, timestamp, hostname, app, procid, msgid, structured data,
message) as one JSON object per message, for a test to compare with the events files.
"""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

BOM = "\ufeff"


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rsyslog:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.tcp_port = free_port(socket.SOCK_STREAM)
        self.received = self.folder / "siem.jsonl"
        self.pidfile = self.folder / "rsyslogd.pid"
        config = self.folder / "rsyslog.conf"
        fields = "\n".join(f'  property(outname="{out}" name="{name}"{extra} format="jsonf")' for out, name, extra in [
            ("version", "protocol-version", ""), ("pri", "pri", ""), ("facility", "syslogfacility-text", ""),
            ("severity", "syslogseverity", ""), ("timestamp", "timereported", ' dateFormat="rfc3339"'),
            ("hostname", "hostname", ""), ("app", "app-name", ""), ("procid", "procid", ""),
            ("msgid", "msgid", ""), ("sd", "structured-data", ""), ("msg", "msg", "")])
        config.write_text(f"""global(workDirectory="{self.folder}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="{self.udp_port}" ruleset="siem")
input(type="imtcp" address="127.0.0.1" port="{self.tcp_port}" ruleset="siem")
template(name="fields" type="list" option.jsonf="on") {{
{fields}
}}
ruleset(name="siem") {{ action(type="omfile" file="{self.received}" template="fields") }}
""")
        self.log = self.folder / "rsyslogd.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(["rsyslogd", "-n", "-f", str(config), "-i", str(self.pidfile)],
                                            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 30
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rsyslogd did not start: {self.log.read_text()}")
            time.sleep(0.05)

    def _listening(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.tcp_port)) == 0

    def url(self, transport):
        return f"{transport}://127.0.0.1:{self.udp_port if transport == 'udp' else self.tcp_port}"

    def messages(self):
        """What rsyslog received, each with `event`: the message's JSON without its BOM."""
        if not self.received.exists():
            return []
        out = []
        for line in self.received.read_text().splitlines():
            m = json.loads(line)
            body = m["msg"]
            m["bom"] = body.startswith(BOM)
            m["event"] = json.loads(body[1:] if m["bom"] else body)
            out.append(m)
        return out

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        if self.pidfile.exists():
            os.unlink(self.pidfile)
