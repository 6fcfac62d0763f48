#!/usr/bin/python3
"""Writes devices/*.umockdev: a dispensing cabinet's USB peripherals, and two devices that must
never reach it, in umockdev-record's format (P: sysfs path, E: uevent properties, A: sysfs
attributes, H: binary attributes in hex). There is no USB bus on the build machines to record
from, so each is written from what such a device reports: its ids and strings, and its raw
descriptors (device, one configuration, one interface per function, one endpoint each).

Usage: make_devices.py      (rewrites devices/; review the diff before committing)
"""
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (port, vendor, product, manufacturer, product string, serial, [(class, subclass, protocol)])
DEVICES = {
    "barcode-scanner": ("1-1", 0x05e0, 0x1200, "Symbol Technologies", "Symbol Bar Code Scanner", "S19042",
                        [(0x03, 0x01, 0x01)]),  # HID boot keyboard: a scanner in keyboard mode
    "fingerprint-reader": ("1-2", 0x147e, 0x1002, "UPEK", "TouchChip Fingerprint Coprocessor", None,
                           [(0xff, 0x00, 0x00)]),  # vendor-specific
    "label-printer": ("1-3", 0x0a5f, 0x00d3, "Zebra Technologies", "ZTC GK420d", "28J171400912",
                      [(0x07, 0x01, 0x02)]),  # printer, bidirectional
    "usb-stick": ("1-4", 0x0781, 0x5567, "SanDisk", "Cruzer Blade", "4C530001230705113355",
                  [(0x08, 0x06, 0x50)]),  # mass storage, SCSI, bulk-only
    # The BadUSB shape: the scanner's ids, name and serial, and a storage interface besides.
    "keyboard-with-storage": ("1-5", 0x05e0, 0x1200, "Symbol Technologies", "Symbol Bar Code Scanner", "S19042",
                              [(0x03, 0x01, 0x01), (0x08, 0x06, 0x50)]),
}


def descriptors(vendor, product, interfaces):
    d = bytes([18, 1, 0x00, 0x02, 0, 0, 0, 64]) + vendor.to_bytes(2, "little") + product.to_bytes(2, "little")
    d += bytes([0x00, 0x01, 1, 2, 3, 1])
    total = 9 + len(interfaces) * (9 + 7)
    d += bytes([9, 2]) + total.to_bytes(2, "little") + bytes([len(interfaces), 1, 0, 0xa0, 50])
    for i, (cls, sub, proto) in enumerate(interfaces):
        d += bytes([9, 4, i, 0, 1, cls, sub, proto, 0])
        d += bytes([7, 5, 0x81 + i, 3, 8, 0, 10])
    return d


def record(port, vendor, product, manufacturer, name, serial, interfaces, devnum):
    lines = [f"P: /devices/pci0000:00/0000:00:1d.0/usb1/{port}",
             "E: BUSNUM=001", f"E: DEVNUM={devnum:03d}", "E: DEVTYPE=usb_device", "E: DRIVER=usb",
             f"E: PRODUCT={vendor:x}/{product:x}/100", "E: SUBSYSTEM=usb",
             "A: authorized=1", "A: busnum=1", f"A: devnum={devnum}",
             f"A: idProduct={product:04x}", f"A: idVendor={vendor:04x}",
             f"A: manufacturer={manufacturer}", "A: port/connect_type=hotplug", f"A: product={name}"]
    if serial is not None:
        lines.append(f"A: serial={serial}")
    lines.append("H: descriptors=" + descriptors(vendor, product, interfaces).hex().upper())
    return "\n".join(lines) + "\n\n"


def main():
    for devnum, (name, spec) in enumerate(DEVICES.items(), start=2):
        (HERE / "devices" / f"{name}.umockdev").write_text(record(*spec, devnum))


if __name__ == "__main__":
    main()
