// USB devices as libudev sees them: those present now, and a monitor that follows them being
// added, changed and removed. Only whole devices (devtype usb_device), never their interfaces;
// host controllers' root hubs are not peripherals and are left out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vitrine/passthrough/usb_device.h"

struct udev;
struct udev_monitor;
struct udev_device;

namespace vitrine::passthrough {

struct UsbUevent {
  enum class Action { Add, Change, Remove };
  Action action = Action::Add;
  UsbDeviceAttributes device;  // for Remove, only syspath and port are known
};
const char* to_string(UsbUevent::Action a);

class UdevUsb {
 public:
  // Opens libudev and its monitor (netlink, filtered to usb/usb_device). Throws
  // std::runtime_error when either cannot be had.
  UdevUsb();
  ~UdevUsb();
  UdevUsb(const UdevUsb&) = delete;
  UdevUsb& operator=(const UdevUsb&) = delete;

  // Every USB device present now, in sysfs order.
  std::vector<UsbDeviceAttributes> present();
  // The host controllers' root hubs ("usb1", ...): their syspaths.
  std::vector<std::string> root_hubs();
  // The monitor's descriptor: readable when an event waits.
  int fd() const;
  // The next event, if one waits (never blocks); events of other kinds are skipped.
  std::optional<UsbUevent> receive();

 private:
  template <typename F>
  void each_usb_device(F&& f);
  udev* udev_ = nullptr;
  udev_monitor* monitor_ = nullptr;
};

// What sysfs says of one device. Attribute files the device lacks are left empty; the
// descriptors are read up to kMaxDescriptorBytes + 1, so that an oversized set is seen as such.
UsbDeviceAttributes read_attributes(udev_device* device);

}  // namespace vitrine::passthrough
