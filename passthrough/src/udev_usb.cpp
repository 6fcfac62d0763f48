#include "vitrine/passthrough/udev_usb.h"

#include <libudev.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace vitrine::passthrough {

namespace {

std::string attribute(udev_device* d, const char* name) {
  const char* v = udev_device_get_sysattr_value(d, name);
  return v ? v : "";
}

unsigned number(udev_device* d, const char* name) {
  const auto text = attribute(d, name);
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > 100000) return 0;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// Peripherals only: a root hub's sysfs name is "usbN", a device's "B-P[.P...]".
bool is_peripheral(udev_device* d) {
  const char* devtype = udev_device_get_devtype(d);
  const char* name = udev_device_get_sysname(d);
  return devtype && std::strcmp(devtype, "usb_device") == 0 && name && std::strncmp(name, "usb", 3) != 0;
}

}  // namespace

const char* to_string(UsbUevent::Action a) {
  switch (a) {
    case UsbUevent::Action::Add: return "add";
    case UsbUevent::Action::Change: return "change";
    case UsbUevent::Action::Remove: return "remove";
  }
  return "add";
}

UsbDeviceAttributes read_attributes(udev_device* d) {
  UsbDeviceAttributes a;
  a.syspath = udev_device_get_syspath(d);
  a.port = udev_device_get_sysname(d);
  a.vendor_id = attribute(d, "idVendor");
  a.product_id = attribute(d, "idProduct");
  a.serial = attribute(d, "serial");
  a.name = attribute(d, "product");
  a.connect_type = attribute(d, "port/connect_type");
  a.busnum = number(d, "busnum");
  a.devnum = number(d, "devnum");
  // Binary: libudev's attribute strings stop at the first NUL, so the file is read directly.
  std::ifstream in(a.syspath + "/descriptors", std::ios::binary);
  std::vector<char> buffer(kMaxDescriptorBytes + 1);
  in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  a.descriptors.assign(buffer.begin(), buffer.begin() + in.gcount());
  return a;
}

UdevUsb::UdevUsb() {
  udev_ = udev_new();
  if (udev_ == nullptr) throw std::runtime_error("libudev: cannot create a context");
  monitor_ = udev_monitor_new_from_netlink(udev_, "udev");
  if (monitor_ == nullptr || udev_monitor_filter_add_match_subsystem_devtype(monitor_, "usb", "usb_device") < 0 ||
      udev_monitor_enable_receiving(monitor_) < 0) {
    if (monitor_) udev_monitor_unref(monitor_);
    udev_unref(udev_);
    throw std::runtime_error("libudev: cannot monitor USB devices");
  }
}

UdevUsb::~UdevUsb() {
  udev_monitor_unref(monitor_);
  udev_unref(udev_);
}

int UdevUsb::fd() const { return udev_monitor_get_fd(monitor_); }

template <typename F>
void UdevUsb::each_usb_device(F&& f) {
  udev_enumerate* e = udev_enumerate_new(udev_);
  if (e == nullptr) throw std::runtime_error("libudev: cannot enumerate devices");
  udev_enumerate_add_match_subsystem(e, "usb");
  udev_enumerate_add_match_property(e, "DEVTYPE", "usb_device");
  udev_enumerate_scan_devices(e);
  udev_list_entry* entry = nullptr;
  udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
    udev_device* d = udev_device_new_from_syspath(udev_, udev_list_entry_get_name(entry));
    if (d == nullptr) continue;  // gone between the scan and now: its remove event follows
    f(d);
    udev_device_unref(d);
  }
  udev_enumerate_unref(e);
}

std::vector<UsbDeviceAttributes> UdevUsb::present() {
  std::vector<UsbDeviceAttributes> out;
  each_usb_device([&](udev_device* d) {
    if (is_peripheral(d)) out.push_back(read_attributes(d));
  });
  return out;
}

std::vector<std::string> UdevUsb::root_hubs() {
  std::vector<std::string> out;
  each_usb_device([&](udev_device* d) {
    if (!is_peripheral(d)) out.emplace_back(udev_device_get_syspath(d));
  });
  return out;
}

std::optional<UsbUevent> UdevUsb::receive() {
  while (udev_device* d = udev_monitor_receive_device(monitor_)) {
    const char* action = udev_device_get_action(d);
    std::optional<UsbUevent> event;
    if (action && is_peripheral(d)) {
      UsbUevent e;
      if (std::strcmp(action, "add") == 0) e.action = UsbUevent::Action::Add;
      else if (std::strcmp(action, "change") == 0) e.action = UsbUevent::Action::Change;
      else if (std::strcmp(action, "remove") == 0) e.action = UsbUevent::Action::Remove;
      else action = nullptr;  // bind, unbind, online, ...: not a change of what the device is
      if (action) {
        if (e.action == UsbUevent::Action::Remove) {
          e.device.syspath = udev_device_get_syspath(d);
          e.device.port = udev_device_get_sysname(d);
        } else {
          e.device = read_attributes(d);
        }
        event = std::move(e);
      }
    }
    udev_device_unref(d);
    if (event) return event;
  }
  return std::nullopt;
}

}  // namespace vitrine::passthrough
