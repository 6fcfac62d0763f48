// The peripherals of a dispensing cabinet, and two that must never reach it, as sysfs shows
// them: ids, strings and raw descriptors (device, configuration, interfaces, endpoints), built
// byte by byte so that each test can see what a device claims to be.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/passthrough/usb_device.h"

namespace vitrine::testing {

struct Interface {
  uint8_t cls, subclass, protocol;
};

// Descriptors for a device with one configuration and the given interfaces, one endpoint each.
inline std::vector<uint8_t> descriptors(uint16_t vendor, uint16_t product, const std::vector<Interface>& ifs) {
  std::vector<uint8_t> d = {18, 1, 0x00, 0x02, 0, 0, 0, 64,
                            static_cast<uint8_t>(vendor), static_cast<uint8_t>(vendor >> 8),
                            static_cast<uint8_t>(product), static_cast<uint8_t>(product >> 8),
                            0x00, 0x01, 1, 2, 3, 1};
  const uint16_t total = static_cast<uint16_t>(9 + ifs.size() * (9 + 7));
  for (uint8_t b : {uint8_t{9}, uint8_t{2}, static_cast<uint8_t>(total), static_cast<uint8_t>(total >> 8),
                    static_cast<uint8_t>(ifs.size()), uint8_t{1}, uint8_t{0}, uint8_t{0xa0}, uint8_t{50}})
    d.push_back(b);
  for (size_t i = 0; i < ifs.size(); ++i) {
    for (uint8_t b : {uint8_t{9}, uint8_t{4}, static_cast<uint8_t>(i), uint8_t{0}, uint8_t{1}, ifs[i].cls,
                      ifs[i].subclass, ifs[i].protocol, uint8_t{0}})
      d.push_back(b);
    for (uint8_t b : {uint8_t{7}, uint8_t{5}, static_cast<uint8_t>(0x81 + i), uint8_t{3}, uint8_t{8}, uint8_t{0}, uint8_t{10}})
      d.push_back(b);
  }
  return d;
}

inline passthrough::UsbDeviceAttributes device(const std::string& port, uint16_t vendor, uint16_t product,
                                               const std::string& name, const std::string& serial,
                                               const std::vector<Interface>& ifs) {
  char id[8];
  passthrough::UsbDeviceAttributes a;
  a.syspath = "/sys/devices/pci0000:00/0000:00:1d.0/usb1/" + port;
  a.port = port;
  std::snprintf(id, sizeof id, "%04x", vendor);
  a.vendor_id = id;
  std::snprintf(id, sizeof id, "%04x", product);
  a.product_id = id;
  a.name = name;
  a.serial = serial;
  a.connect_type = "hotplug";
  a.busnum = 1;
  a.devnum = 2;
  a.descriptors = descriptors(vendor, product, ifs);
  return a;
}

// A handheld scanner in keyboard mode, a fingerprint reader (vendor class), a label printer,
// a USB stick, and a "keyboard" that also carries storage (the BadUSB shape).
inline passthrough::UsbDeviceAttributes barcode_scanner() {
  return device("1-1", 0x05e0, 0x1200, "Symbol Bar Code Scanner", "S19042", {{0x03, 0x01, 0x01}});
}
inline passthrough::UsbDeviceAttributes fingerprint_reader() {
  return device("1-2", 0x147e, 0x1002, "TouchChip Fingerprint Coprocessor", "", {{0xff, 0x00, 0x00}});
}
inline passthrough::UsbDeviceAttributes label_printer() {
  return device("1-3", 0x0a5f, 0x00d3, "ZTC GK420d", "28J171400912", {{0x07, 0x01, 0x02}});
}
inline passthrough::UsbDeviceAttributes usb_stick() {
  return device("1-4", 0x0781, 0x5567, "Cruzer Blade", "4C530001230705113355", {{0x08, 0x06, 0x50}});
}
inline passthrough::UsbDeviceAttributes keyboard_with_storage() {
  return device("1-5", 0x05e0, 0x1200, "Symbol Bar Code Scanner", "S19042", {{0x03, 0x01, 0x01}, {0x08, 0x06, 0x50}});
}

}  // namespace vitrine::testing
