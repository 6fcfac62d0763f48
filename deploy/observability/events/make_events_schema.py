#!/usr/bin/python3
"""Writes events.schema.json (JSON Schema 2020-12) from the table below: every event hostd,
netmon and passthrough write, the fields each may carry and those it always carries. EVENTS.md
describes the same events for people; tests/observability/check_events.py holds the code, the
table and EVENTS.md to each other, and real events to the schema.

Usage: make_events_schema.py > events.schema.json
"""
import json

TIME = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$",
        "description": "UTC, microseconds: hostd's and netmon's records sort together by this text"}
STR = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}
COUNT = {"type": "integer", "minimum": 0}
PORT = {"type": "integer", "minimum": 0, "maximum": 65535}
SHA256 = {"type": "string", "pattern": "^([0-9a-f]{64})?$"}

# Fields any event may carry.
COMMON = {
    "time": TIME,
    "event": NONEMPTY,
    "cabinet": NONEMPTY,
    "source": {"enum": ["hostd", "netmon"]},
}
# netmon: the flow (or frame) an event is about, oriented as its initiator sent it.
FLOW = {
    "l4": NONEMPTY, "src": NONEMPTY, "sport": PORT, "dst": NONEMPTY, "dport": PORT,
    "direction": {"enum": ["egress", "ingress"]},
    "protocol": NONEMPTY,
    "attributes": {"type": "object", "additionalProperties": STR,
                   "description": "what the flow's messages said: dns.name, tls.sni, hl7.type, smb.share, ..."},
    "patient_ref": {"type": "string", "pattern": "^[0-9a-f]{16,64}$",
                    "description": "a keyed hash of the message's patient identifier, never the identifier"},
    "rule": NONEMPTY, "reason": NONEMPTY,
}
FLOW_REQUIRED = ["l4", "src", "sport", "dst", "dport", "direction", "protocol", "rule", "reason"]
USB = {
    "action": {"enum": ["present", "add", "change", "remove", "policy_reload", "guest_started"]},
    "id": {"type": "string", "pattern": "^([0-9a-f]{4}:[0-9a-f]{4}|:)$"},
    "serial": STR, "name": STR, "port": STR,
    "interfaces": {"type": "array", "items": STR},
    "rule": NONEMPTY, "rule_text": STR, "reason": STR,
}
USB_REQUIRED = ["action", "id", "serial", "name", "port", "interfaces", "rule"]
SERIAL = {"com": {"type": "integer", "minimum": 1, "maximum": 4}, "reason": STR, "bytes": COUNT}

# event: (writer, fields, required beyond time and event)
EVENTS = {
    # netmon
    "flow_denied": ("netmon", FLOW, FLOW_REQUIRED),
    "flow_alert": ("netmon", FLOW, FLOW_REQUIRED),
    "flow_would_deny": ("netmon", FLOW, FLOW_REQUIRED),
    "virtual_patch": ("netmon", FLOW | {"signature": {"type": "string", "pattern": r"^vitrine\.[a-z0-9]+\.[a-z0-9-]+\.[a-z0-9_-]+$"}},
                      FLOW_REQUIRED + ["signature"]),
    "malformed": ("netmon", FLOW, ["l4", "src", "sport", "dst", "dport", "direction", "protocol", "reason"]),
    "limit_reached": ("netmon", FLOW | {"limit": NONEMPTY, "value": COUNT, "limit_value": COUNT},
                      ["limit", "value", "limit_value", "reason"]),
    "layer2_violation": ("netmon", FLOW, ["direction", "reason"]),
    "normaliser_drop": ("netmon", FLOW, ["l4", "src", "sport", "dst", "dport", "direction", "protocol", "reason"]),
    "policy_reloaded": ("netmon", {"policy": NONEMPTY, "policy_sha256": SHA256, "flows_rejudged": COUNT,
                                   "flows_cut": COUNT}, ["policy", "policy_sha256", "flows_rejudged", "flows_cut"]),
    "policy_refused": ("netmon", {"policy": NONEMPTY, "reason": NONEMPTY}, ["policy", "reason"]),
    # hostd: the guest, netmon, operators
    "hostd_started": ("hostd", {"pid": COUNT}, ["pid"]),
    "hostd_stopped": ("hostd", {}, []),
    "netmon_started": ("hostd", {"pid": COUNT, "policy": NONEMPTY, "policy_sha256": SHA256},
                       ["pid", "policy", "policy_sha256"]),
    "netmon_adopted": ("hostd", {"pid": COUNT, "policy_sha256": SHA256}, ["pid", "policy_sha256"]),
    "netmon_exited": ("hostd", {"pid": {"type": "integer"}, "status": NONEMPTY}, ["pid", "status"]),
    "netmon_lock_lost": ("hostd", {"pid": COUNT, "lock": NONEMPTY}, ["pid", "lock"]),
    "guest_started": ("hostd", {"reason": NONEMPTY}, ["reason"]),
    "guest_start_failed": ("hostd", {"reason": NONEMPTY, "error": STR}, ["reason", "error"]),
    "guest_adopted": ("hostd", {}, []),
    "guest_stopping": ("hostd", {"reason": NONEMPTY, "timeout_seconds": COUNT}, ["reason", "timeout_seconds"]),
    "guest_stopped": ("hostd", {"reason": NONEMPTY, "how": NONEMPTY}, ["reason", "how"]),
    "guest_crashed": ("hostd", {}, []),
    "guest_rebooted": ("hostd", {}, []),
    "guest_restart_scheduled": ("hostd", {"in_seconds": COUNT}, ["in_seconds"]),
    "crash_loop": ("hostd", {"restarts": COUNT, "window_minutes": COUNT}, ["restarts", "window_minutes"]),
    "operator_stop": ("hostd", {}, []),
    "operator_start": ("hostd", {"cleared_crash_loop": {"type": "boolean"}}, ["cleared_crash_loop"]),
    "snapshot_create": ("hostd", {"name": NONEMPTY}, ["name"]),
    "snapshot_revert": ("hostd", {"name": NONEMPTY}, ["name"]),
    "snapshot_delete": ("hostd", {"name": NONEMPTY}, ["name"]),
    "policy_reload_requested": ("hostd", {"policy": NONEMPTY, "policy_sha256": SHA256}, ["policy", "policy_sha256"]),
    "policy_reload_refused": ("hostd", {"policy": NONEMPTY, "reason": NONEMPTY}, ["policy", "reason"]),
    "usb_rules_reloaded": ("hostd", {"policy": NONEMPTY, "rules": COUNT}, ["policy", "rules"]),
    # passthrough, written by hostd
    "usb_controller_guarded": ("hostd", USB, USB_REQUIRED),
    "usb_allowed": ("hostd", USB, USB_REQUIRED),
    "usb_blocked": ("hostd", USB, USB_REQUIRED),
    "usb_rejected": ("hostd", USB, USB_REQUIRED),
    "usb_attached": ("hostd", USB, USB_REQUIRED),
    "usb_detached": ("hostd", USB, USB_REQUIRED),
    "usb_removed": ("hostd", USB, USB_REQUIRED),
    "usb_attach_failed": ("hostd", USB, USB_REQUIRED),
    "usb_host_refused": ("hostd", USB, USB_REQUIRED),
    "serial_device_opened": ("hostd", SERIAL, ["com", "reason"]),
    "serial_device_lost": ("hostd", SERIAL, ["com", "reason"]),
    "serial_guest_connected": ("hostd", SERIAL, ["com", "reason"]),
    "serial_guest_lost": ("hostd", SERIAL, ["com", "reason"]),
    "serial_line_dropped": ("hostd", SERIAL, ["com", "reason", "bytes"]),
}


def schema():
    cases = []
    for name, (writer, fields, required) in EVENTS.items():
        cases.append({
            "if": {"properties": {"event": {"const": name}}, "required": ["event"]},
            "then": {"properties": fields, "required": required,
                     "description": f"written by {writer}"},
        })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://vitrine.invalid/schemas/events.schema.json",
        "title": "vitrine event",
        "description": "One line of hostd's or netmon's events file (JSON lines), also the message of each "
                       "forwarded RFC 5424 syslog record. See EVENTS.md.",
        "type": "object",
        "properties": COMMON | {"event": {"enum": sorted(EVENTS)}},
        "required": ["time", "event"],
        "allOf": cases,
        "unevaluatedProperties": False,
    }


if __name__ == "__main__":
    print(json.dumps(schema(), indent=1, sort_keys=False))
