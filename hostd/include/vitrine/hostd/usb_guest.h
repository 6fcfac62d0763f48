// The guest's side of USB passthrough: a device passthrough allowed is attached to the running
// domain through libvirt's API (live only: the domain's definition never keeps a device, so a
// restarted guest gets exactly what passthrough attaches again), and detached the same way.
#pragma once

#include <functional>
#include <string>

#include "vitrine/passthrough/usb_passthrough.h"

struct _virConnect;

namespace vitrine::hostd {

class LibvirtGuestUsb : public passthrough::GuestUsb {
 public:
  // How a device is presented to the guest: by default the host device itself (<hostdev>).
  using DeviceXml = std::function<std::string(const passthrough::UsbDeviceAttributes&)>;
  // Whether the domain's live XML already has the device (a hostd restarted over a running
  // guest adopts what the previous one attached).
  using Attached = std::function<bool(const std::string& domain_xml, const passthrough::UsbDeviceAttributes&)>;

  LibvirtGuestUsb(_virConnect* conn, std::string domain);
  LibvirtGuestUsb(_virConnect* conn, std::string domain, DeviceXml xml, Attached attached);

  bool attach(const passthrough::UsbDeviceAttributes& device, std::string& error) override;
  bool detach(const passthrough::UsbDeviceAttributes& device, std::string& error) override;
  bool running() const override;

 private:
  _virConnect* conn_;
  std::string domain_;
  DeviceXml xml_;
  Attached attached_;
};

}  // namespace vitrine::hostd
