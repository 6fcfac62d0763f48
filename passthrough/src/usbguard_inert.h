// The manager and manager hooks USBGuard's Device must be built with. Describing a device
// from its descriptors uses neither (no IDs, no events, no sysfs writes), so both are inert:
// kept apart from the descriptor reading in usb_device.cpp, which is what parses hostile bytes.
#pragma once

#include <usbguard/Device.hpp>
#include <usbguard/DeviceManager.hpp>
#include <usbguard/DeviceManagerHooks.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace vitrine::passthrough {

class InertHooks : public usbguard::DeviceManagerHooks {
 public:
  uint32_t dmHookAssignID() override { return 1; }
  void dmHookDeviceException(const std::string&) override {}
};

class InertManager : public usbguard::DeviceManager {
 public:
  explicit InertManager(usbguard::DeviceManagerHooks& hooks) : DeviceManager(hooks) {}
  void setEnumerationOnlyMode(bool) override {}
  void start() override {}
  void stop() override {}
  void scan() override {}
  void scan(const std::string&) override {}
  std::shared_ptr<usbguard::Device> applyDevicePolicy(uint32_t, usbguard::Rule::Target) override { return nullptr; }
};

}  // namespace vitrine::passthrough
