#include "vitrine/passthrough/usb_device.h"

#include <usbguard/Device.hpp>
#include <usbguard/Exception.hpp>
#include <usbguard/Rule.hpp>
#include <usbguard/USB.hpp>

#include <cctype>
#include <sstream>

#include "usbguard_inert.h"

namespace vitrine::passthrough {

namespace {

// A device read from bytes: the descriptor parser's hooks hash each descriptor as USBGuard's
// own sysfs device does, and load the device, configuration, interface and endpoint ones.
class DescribedDevice : public usbguard::Device, public usbguard::USBDescriptorParserHooks {
 public:
  explicit DescribedDevice(usbguard::DeviceManager& manager) : Device(manager) {}
  bool isController() const override { return false; }
  std::string getSystemName() const override { return getPort(); }

  void parseUSBDescriptor(usbguard::USBDescriptorParser* parser, const usbguard::USBDescriptor* in,
                          usbguard::USBDescriptor* out) override {
    USBDescriptorParserHooks::parseUSBDescriptor(parser, in, out);
    updateHash(in, in->bHeader.bLength);
  }
  void loadUSBDescriptor(usbguard::USBDescriptorParser* parser, const usbguard::USBDescriptor* d) override {
    switch (static_cast<usbguard::USBDescriptorType>(d->bHeader.bDescriptorType)) {
      case usbguard::USBDescriptorType::Device: loadDeviceDescriptor(parser, d); break;
      case usbguard::USBDescriptorType::Configuration: loadConfigurationDescriptor(parser, d); break;
      case usbguard::USBDescriptorType::Interface: loadInterfaceDescriptor(parser, d); break;
      case usbguard::USBDescriptorType::Endpoint: loadEndpointDescriptor(parser, d); break;
      default: break;  // strings, associations, class-specific: not part of a rule
    }
  }
};

bool is_hex4(const std::string& s) {
  if (s.size() != 4) return false;
  for (unsigned char c : s)
    if (!std::isxdigit(c)) return false;
  return true;
}

// Names and serials reach events and rules: printable ASCII only, as USBGuard escapes them.
bool printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

}  // namespace

UsbDeviceDescription describe(const UsbDeviceAttributes& a) {
  UsbDeviceDescription out;
  if (!is_hex4(a.vendor_id) || !is_hex4(a.product_id)) {
    out.error = "idVendor/idProduct are not 4 hex digits";
    return out;
  }
  if (a.descriptors.size() > kMaxDescriptorBytes) {
    out.error = "descriptors longer than " + std::to_string(kMaxDescriptorBytes) + " bytes";
    return out;
  }
  InertHooks hooks;
  InertManager manager(hooks);
  DescribedDevice device(manager);
  try {
    device.setName(a.name);
    device.setDeviceID(usbguard::USBDeviceID(a.vendor_id, a.product_id));
    device.setSerial(a.serial);
    device.setPort(a.port);
    device.setConnectType(a.connect_type);
    const std::string bytes(a.descriptors.begin(), a.descriptors.end());
    std::istringstream stream(bytes);
    device.initializeHash();
    usbguard::USBDescriptorParser parser(device);
    if (parser.parse(stream) < sizeof(usbguard::USBDeviceDescriptor)) {
      out.error = "descriptors shorter than a device descriptor";
      return out;
    }
    out.hash = device.finalizeHash();
    device.setTarget(usbguard::Rule::Target::Device);
    auto rule = device.getDeviceRule(/*with_port=*/true, /*with_parent_hash=*/false);
    const usbguard::USBInterfaceType mass_storage("08:*:*");
    for (const auto& type : device.getInterfaceTypes()) {
      out.interfaces.push_back(type.typeString());
      if (mass_storage.appliesTo(type)) out.mass_storage = true;
    }
    out.summary = rule->toString(false, /*hide_serial=*/true);
    const std::string prefix = "device ";
    if (out.summary.rfind(prefix, 0) == 0) out.summary.erase(0, prefix.size());
    out.rule = std::move(rule);
  } catch (const usbguard::Exception& e) {
    out.error = "USBGuard refused the device: " + e.message();
    return out;
  } catch (const std::exception& e) {
    out.error = std::string("USBGuard refused the device: ") + e.what();
    return out;
  }
  if (!printable(a.name) || !printable(a.serial)) {
    // Still described (USBGuard escapes them in rules); the summary says so.
    out.summary += " (name or serial not printable)";
  }
  out.ok = true;
  return out;
}

}  // namespace vitrine::passthrough
