#!/usr/bin/python3
"""Writes the Grafana dashboards (JSON models, schema 37) from the panel lists below: a fleet
overview (every cabinet, by its `cabinet` label) and one cabinet (template variable $cabinet). Every query is run against a real Prometheus by tests/e2e/test_hostd.py
and must parse and return data, so that no panel is empty because of a typo; "or vector(0)"
keeps a panel of counts at 0 where nothing has happened.

Usage: make_dashboards.py      (rewrites vitrine-fleet.json and vitrine-cabinet.json)
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Every series of a cabinet, hostd's and netmon's alike, carries the `cabinet` label its
# Prometheus scrape configuration gives it (the fleet guide's site and cabinet labels).
CABINET = '{cabinet=~"$cabinet"}'

FLEET = [
    ("stat", "Cabinets running", 'count(vitrine_domain_up == 1) or vector(0)'),
    ("stat", "Cabinets down (not stopped by an operator)",
     'count(vitrine_domain_up == 0 and on (instance, domain) vitrine_domain_operator_stopped == 0) or vector(0)'),
    ("stat", "Cabinets cut off (netmon down)", 'count(vitrine_netmon_up == 0) or vector(0)'),
    ("stat", "Crash loops", 'sum(vitrine_domain_crash_loop) or vector(0)'),
    ("stat", "Virtual patch hits, 24 h", 'sum(increase(vitrine_netmon_virtual_patch_hits_total[24h])) or vector(0)'),
    ("stat", "USB devices blocked now", 'sum(vitrine_usb_devices_blocked) or vector(0)'),
    ("timeseries", "Denied flows per second, by cabinet",
     'sum by (cabinet) (rate(vitrine_netmon_flows_total{verdict="deny"}[5m]))'),
    ("timeseries", "HL7 messages per second, by cabinet and verdict",
     'sum by (cabinet, verdict) (rate(vitrine_netmon_messages_total{protocol="HL7"}[5m])) or vector(0)'),
    ("table", "Guest uptime, by cabinet", 'max by (site, cabinet) (vitrine_domain_uptime_seconds)'),
]

ONE = [
    ("stat", "Guest running", 'vitrine_domain_up{C}'),
    ("stat", "netmon running", 'vitrine_netmon_up{C}'),
    ("stat", "Restarts by hostd", 'vitrine_domain_restarts_total{C}'),
    ("stat", "Uptime", 'vitrine_domain_uptime_seconds{C}'),
    ("timeseries", "Guest CPU (cores)", 'rate(vitrine_domain_info_cpu_time_seconds_total{C}[5m])'),
    ("timeseries", "Disk writes (bytes/s)", 'rate(vitrine_domain_block_stats_write_bytes_total{C}[5m])'),
    ("timeseries", "NIC traffic sent (bytes/s)", 'rate(vitrine_domain_interface_stats_transmit_bytes_total{C}[5m])'),
    ("timeseries", "Frames per second by direction and verdict",
     'sum by (direction, verdict) (rate(vitrine_netmon_packets_total{C}[5m]))'),
    ("timeseries", "Flows per second by protocol and verdict",
     'sum by (protocol, verdict) (rate(vitrine_netmon_flows_total{C}[5m]))'),
    ("table", "Rule hits, 1 h", 'sum by (rule, action) (increase(vitrine_netmon_rule_hits_total{C}[1h]))'),
    ("stat", "Virtual patch hits, 24 h", 'sum(increase(vitrine_netmon_virtual_patch_hits_total{C}[24h])) or vector(0)'),
    ("stat", "HL7 NAKs, 24 h", 'sum(increase(vitrine_netmon_message_naks_total{C}[24h])) or vector(0)'),
    ("timeseries", "HL7 ACK latency, 95th percentile (s)",
     'histogram_quantile(0.95, sum by (le) (rate(vitrine_netmon_message_ack_latency_seconds_bucket{C}[10m]))) '
     'or vector(0)'),
    ("gauge", "Flow table fill", 'vitrine_netmon_flow_table_flows{C} / vitrine_netmon_flow_table_capacity_flows{C}'),
    ("stat", "Frames dropped by the capture, 1 h",
     'sum(increase(vitrine_netmon_capture_dropped_packets_total{C}[1h])) or vector(0)'),
    ("stat", "USB devices present, attached, blocked",
     'vitrine_usb_devices_present{C} or vitrine_usb_devices_attached{C} or vitrine_usb_devices_blocked{C}'),
    ("timeseries", "Serial bytes per second by port and direction",
     'sum by (com, direction) (rate(vitrine_serial_bytes_total{C}[5m])) or vector(0)'),
]


def panel(i, kind, title, expr):
    return {
        "id": i + 1,
        "type": kind,
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 6 if kind != "timeseries" else 8, "w": 8, "x": (i % 3) * 8, "y": (i // 3) * 8},
        "targets": [{"refId": "A", "expr": expr.replace("{C}", CABINET), "datasource": {"type": "prometheus", "uid": "${datasource}"}}],
    }


def dashboard(uid, title, panels, one_cabinet):
    variables = [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]
    if one_cabinet:
        variables.append({"name": "cabinet", "type": "query", "label": "Cabinet",
                          "datasource": {"type": "prometheus", "uid": "${datasource}"},
                          "query": "label_values(vitrine_domain_up, cabinet)", "refresh": 2})
    return {"uid": uid, "title": title, "schemaVersion": 37, "version": 1, "editable": True,
            "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "tags": ["vitrine"],
            "templating": {"list": variables},
            "panels": [panel(i, *p) for i, p in enumerate(panels)]}


def main():
    for name, board in (("vitrine-fleet.json", dashboard("vitrine-fleet", "vitrine: fleet", FLEET, False)),
                        ("vitrine-cabinet.json", dashboard("vitrine-cabinet", "vitrine: one cabinet", ONE, True))):
        (HERE / name).write_text(json.dumps(board, indent=2) + "\n")


if __name__ == "__main__":
    main()
