// USB passthrough against a real libvirt guest, driven line by line on stdin by
// tests/e2e/test_standin_libvirt.py. The host side is umockdev (no USB bus on the build
// machines): the cabinet's recorded devices are plugged into a fake sysfs, their uevents reach
// the real libudev monitor, passthrough judges them by the policy's usb rules. The guest side
// is real: hostd's LibvirtGuestUsb attaches and detaches through libvirtd, live. A host device
// cannot be handed to QEMU here, so an allowed device is presented as the device QEMU can
// emulate (a USB keyboard, which is what a scanner in keyboard mode is to the guest).
//
// Usage (under umockdev-wrapper): vitrine_usb_e2e LIBVIRT_URI DOMAIN DEVICES_DIR POLICY
// Commands: "plug NAME", "unplug NAME", "guest_started", "quit". Each event is printed as a
// JSON line, then {"done": COMMAND, "ms": time from the uevent to passthrough's last action}.
#include <libvirt/libvirt.h>
#include <poll.h>
#include <umockdev.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "vitrine/hostd/usb_guest.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/passthrough/udev_usb.h"
#include "vitrine/passthrough/usb_passthrough.h"
#include "vitrine/policy/load.h"

using namespace vitrine;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kEmulatedKeyboard = "<input type='keyboard' bus='usb'/>";

std::optional<passthrough::UsbUevent> next_uevent(passthrough::UdevUsb& udev) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (auto e = udev.receive()) return e;
    pollfd p{udev.fd(), POLLIN, 0};
    poll(&p, 1, 100);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: vitrine_usb_e2e LIBVIRT_URI DOMAIN DEVICES_DIR POLICY\n";
    return 2;
  }
  const std::string devices_dir = argv[3];
  virConnectPtr conn = virConnectOpen(argv[1]);
  if (conn == nullptr) {
    std::cerr << "cannot connect to " << argv[1] << "\n";
    return 1;
  }
  netmon::NdpiClassifier catalog;
  auto rules = passthrough::UsbRuleSet::compile(policy::load_policy_file(argv[4], catalog).usb_rules);
  UMockdevTestbed* testbed = umockdev_testbed_new();
  passthrough::UdevUsb udev;
  hostd::LibvirtGuestUsb guest(
      conn, argv[2], [](const passthrough::UsbDeviceAttributes&) { return std::string(kEmulatedKeyboard); },
      [](const std::string& xml, const passthrough::UsbDeviceAttributes&) {
        return xml.find("<input type='keyboard' bus='usb'>") != std::string::npos;
      });
  passthrough::SysfsHostUsb host;
  prometheus::Registry registry;
  passthrough::UsbMetrics metrics(registry);
  passthrough::UsbPassthrough usb(
      std::move(rules), guest, host,
      [](const passthrough::UsbEvent& e) {
        std::cout << nlohmann::json{{"event", e.kind}, {"action", e.action}, {"port", e.port},
                                    {"id", e.vendor_id + ":" + e.product_id}, {"rule", e.rule}, {"reason", e.reason}}
                         .dump()
                  << std::endl;
      },
      metrics);
  usb.guard_controllers(udev.root_hubs());
  usb.on_present(udev.present());
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream words(line);
    std::string command, name;
    words >> command >> name;
    if (command == "quit") break;
    const std::string file = devices_dir + "/" + name + ".umockdev";
    const std::string syspath = [&] {  // the P: line of the recorded device
      std::ifstream in(file);
      std::string first;
      std::getline(in, first);
      return "/sys" + first.substr(first.find(' ') + 1);
    }();
    const auto start = Clock::now();
    bool ok = true;
    if (command == "plug") {
      GError* error = nullptr;
      ok = umockdev_testbed_add_from_file(testbed, file.c_str(), &error);  // announces an "add"
    } else if (command == "unplug") {
      umockdev_testbed_uevent(testbed, syspath.c_str(), "remove");
      umockdev_testbed_remove_device(testbed, syspath.c_str());
    } else if (command == "guest_started") {
      usb.on_guest_started();
    } else {
      ok = false;
    }
    if (ok && (command == "plug" || command == "unplug")) {
      const auto e = next_uevent(udev);
      if (e) usb.on_uevent(*e);
      ok = e.has_value();
    }
    const auto ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::cout << nlohmann::json{{"done", command}, {"ok", ok}, {"ms", ms}}.dump() << std::endl;
  }
  g_object_unref(testbed);
  virConnectClose(conn);
  return 0;
}
