// The cabinet's USB devices as written in tests/passthrough/devices/*.umockdev (umockdev-record's
// format; see make_devices.py): read here into the attributes passthrough reads from sysfs, so
// that the unit tests and the umockdev tests judge the same devices.
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>

#include "vitrine/passthrough/usb_device.h"

#ifndef VITRINE_TEST_DEVICES_DIR
#error "VITRINE_TEST_DEVICES_DIR names tests/passthrough/devices"
#endif

namespace vitrine::testing {

inline std::string device_file(const std::string& name) {
  return std::string(VITRINE_TEST_DEVICES_DIR) + "/" + name + ".umockdev";
}

// The attributes of the one device a .umockdev file describes, as if read from sysfs.
inline passthrough::UsbDeviceAttributes recorded_device(const std::string& name) {
  std::ifstream in(device_file(name));
  if (!in) throw std::runtime_error("cannot read " + device_file(name));
  passthrough::UsbDeviceAttributes a;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("P: ", 0) == 0) {
      a.syspath = "/sys" + line.substr(3);
      a.port = a.syspath.substr(a.syspath.rfind('/') + 1);
    }
    if (line.rfind("A: ", 0) != 0 && line.rfind("H: ", 0) != 0) continue;
    const auto eq = line.find('=');
    const std::string key = line.substr(3, eq - 3), value = line.substr(eq + 1);
    if (key == "idVendor") a.vendor_id = value;
    if (key == "idProduct") a.product_id = value;
    if (key == "serial") a.serial = value;
    if (key == "product") a.name = value;
    if (key == "port/connect_type") a.connect_type = value;
    if (key == "busnum") a.busnum = static_cast<unsigned>(std::stoul(value));
    if (key == "devnum") a.devnum = static_cast<unsigned>(std::stoul(value));
    if (key == "descriptors")
      for (size_t i = 0; i + 1 < value.size(); i += 2)
        a.descriptors.push_back(static_cast<uint8_t>(std::stoul(value.substr(i, 2), nullptr, 16)));
  }
  return a;
}

inline passthrough::UsbDeviceAttributes barcode_scanner() { return recorded_device("barcode-scanner"); }
inline passthrough::UsbDeviceAttributes fingerprint_reader() { return recorded_device("fingerprint-reader"); }
inline passthrough::UsbDeviceAttributes label_printer() { return recorded_device("label-printer"); }
inline passthrough::UsbDeviceAttributes usb_stick() { return recorded_device("usb-stick"); }
inline passthrough::UsbDeviceAttributes keyboard_with_storage() { return recorded_device("keyboard-with-storage"); }

}  // namespace vitrine::testing
