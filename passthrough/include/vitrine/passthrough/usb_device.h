// A USB device as the policy sees it: what sysfs says of it (every byte of which the device
// itself chose, so none of it is trusted), turned into USBGuard's description of the device —
// id, serial, name, hash, via-port, with-interface, with-connect-type — by USBGuard's own
// descriptor parser, so that a rule means here what it means to USBGuard.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace usbguard {
class Rule;
}

namespace vitrine::passthrough {

// Read from sysfs (/sys/bus/usb/devices/<port>): attribute files as the kernel shows them.
struct UsbDeviceAttributes {
  std::string syspath;       // /sys/devices/pci0000:00/.../1-2
  std::string port;          // the sysfs name: "1-2", "1-2.4" (USBGuard's via-port)
  std::string vendor_id;     // idVendor, 4 hex digits
  std::string product_id;    // idProduct
  std::string serial;        // may be absent: ""
  std::string name;          // product string; may be absent
  std::string connect_type;  // port/connect_type: "hotplug", "hardwired", ...
  unsigned busnum = 0, devnum = 0;  // what libvirt addresses a host device by
  std::vector<uint8_t> descriptors;  // the raw device and configuration descriptors
};

// What USBGuard makes of a device, or why it could not.
struct UsbDeviceDescription {
  bool ok = false;
  std::string error;  // descriptors that do not parse, an id that is not one
  std::shared_ptr<const usbguard::Rule> rule;  // the device as a USBGuard rule: what rules match against
  std::string hash;
  std::vector<std::string> interfaces;  // "03:01:01", in descriptor order
  bool mass_storage = false;            // an interface of class 08
  // The device as one line ("id 05e0:1200 serial ... with-interface ..."), serial hidden.
  std::string summary;
};

// A device's descriptors are at most a few KiB (a configuration's wTotalLength is 16 bits, and a
// device has a handful of configurations); more is refused rather than parsed.
inline constexpr size_t kMaxDescriptorBytes = 64 * 1024;

UsbDeviceDescription describe(const UsbDeviceAttributes& device);

}  // namespace vitrine::passthrough
