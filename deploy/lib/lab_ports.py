"""Every loopback port a test or benchmark of the lab listens on, in one table, each owned by one
file: no two share one, so that none can collide with another however they are run (the suite
runs them one at a time; a person running two by hand may not). tests/tools/check_lab_ports.py
holds every file to this table: a port written anywhere else is an error.
"""

PORTS = {
    # integration: netmon's metrics, one per test file
    "integration.inline": 19464,
    "integration.layer2": 19465,
    "integration.reload": 19466,
    "integration.l7": 19468,
    "integration.hl7": 19469,
    "integration.dicom": 19470,
    "integration.rdp": 19471,
    "integration.smb": 19472,
    "integration.smb_samba": 19473,
    "integration.floods": 19474,
    "integration.control": 19475,
    "integration.control.syslog": 19477,
    "integration.control.second": 19478,
    "integration.modbus": 19479,
    "integration.evasion_live": 19476,
    # e2e
    "e2e.standin_qemu.netmon": 19480,
    "e2e.standin_libvirt.netmon": 19481,
    "e2e.standin_libvirt.hostd": 19482,
    "e2e.hostd.prometheus": 19490,
    # benchmarks
    "bench.replay.netmon": 19500,
    "bench.ab.netmon": 19501,
    "bench.cabinet.hostd": 19502,
    "bench.cabinet.netmon": 19503,
}
assert len(set(PORTS.values())) == len(PORTS), "two owners of one port"


def port(name):
    return PORTS[name]
