// USB decisions with umockdev: the cabinet's recorded devices (devices/*.umockdev) in a fake
// sysfs, add/change/remove uevents seen by the real libudev monitor, and passthrough's
// decisions, host authorisation (the sysfs `authorized` file), events and metrics. The guest
// is a recording stand-in here; tests/e2e attaches to a real libvirt guest.
// Runs under umockdev-wrapper (LD_PRELOAD of umockdev's sysfs and netlink emulation).
#include <gtest/gtest.h>
#include <poll.h>
#include <umockdev.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "cabinet_devices.h"
#include "vitrine/passthrough/udev_usb.h"
#include "vitrine/passthrough/usb_passthrough.h"

using namespace vitrine::passthrough;
using vitrine::testing::device_file;

namespace {

const std::vector<std::string> kCabinetRules = {
    R"(allow id 05e0:1200 serial "S19042" with-interface 03:01:01 label "scanner")",
    R"(allow id 147e:1002 with-interface equals { ff:00:00 } label "fingerprint")",
    R"(allow id 0a5f:00d3 with-interface 07:01:02 label "label-printer")",
};

UsbRuleSet compile(const std::vector<std::string>& texts) {
  std::vector<vitrine::policy::UsbRuleText> in;
  for (const auto& t : texts) in.push_back({t, "cabinet.policy.yaml", 1, 1});
  return UsbRuleSet::compile(in);
}

class RecordingGuest : public GuestUsb {
 public:
  bool attach(const UsbDeviceAttributes& d, std::string& error) override {
    calls.push_back("attach " + d.port);
    if (!accept) error = "the guest refused";
    return accept;
  }
  bool detach(const UsbDeviceAttributes& d, std::string&) override {
    calls.push_back("detach " + d.port);
    return true;
  }
  bool running() const override { return up; }
  std::vector<std::string> calls;
  bool accept = true, up = true;
};

std::string sysfs(const std::string& port, const std::string& attribute) {
  std::ifstream in("/sys/devices/pci0000:00/0000:00:1d.0/usb1/" + port + "/" + attribute);
  std::string value;
  std::getline(in, value);
  return value;
}

class UsbUmockdev : public ::testing::Test {
 protected:
  void SetUp() override {
    // umockdev_in_mock_environment() answers false here even when the preload is active (it
    // asks which library provides open(), and GLIBC's versioned symbols defeat that).
    const char* preload = std::getenv("LD_PRELOAD");
    ASSERT_TRUE(preload && std::strstr(preload, "libumockdev-preload")) << "run under umockdev-wrapper";
    testbed_ = umockdev_testbed_new();
  }
  void TearDown() override { g_object_unref(testbed_); }

  // Adds a recorded device; returns its syspath.
  std::string plug(const std::string& name) {
    GError* error = nullptr;
    EXPECT_TRUE(umockdev_testbed_add_from_file(testbed_, device_file(name).c_str(), &error))
        << (error ? error->message : "");
    return vitrine::testing::recorded_device(name).syspath;
  }
  void uevent(const std::string& syspath, const char* action) { umockdev_testbed_uevent(testbed_, syspath.c_str(), action); }

  // The next USB uevent the monitor delivers, within five seconds.
  UsbUevent next_event(UdevUsb& udev) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto e = udev.receive()) return *e;
      pollfd p{udev.fd(), POLLIN, 0};
      poll(&p, 1, 100);
    }
    ADD_FAILURE() << "no uevent within 5 s";
    return {};
  }

  UsbPassthrough make(const std::vector<std::string>& rules) {
    return UsbPassthrough(compile(rules), guest_, host_, [this](const UsbEvent& e) { events_.push_back(e); }, metrics_);
  }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.kind + " " + e.port + " " + e.rule);
    return out;
  }

  UMockdevTestbed* testbed_ = nullptr;
  RecordingGuest guest_;
  SysfsHostUsb host_;
  std::vector<UsbEvent> events_;
  prometheus::Registry registry_;
  UsbMetrics metrics_{registry_};
};

TEST_F(UsbUmockdev, DevicesPresentAtStartAreJudgedAndTheBlockedOnesDeauthorised) {
  for (const char* name : {"barcode-scanner", "fingerprint-reader", "label-printer", "usb-stick"}) plug(name);
  UdevUsb udev;
  const auto present = udev.present();
  ASSERT_EQ(present.size(), 4u);
  auto passthrough = make(kCabinetRules);
  passthrough.on_present(present);
  EXPECT_EQ(guest_.calls, (std::vector<std::string>{"attach 1-1", "attach 1-2", "attach 1-3"}));
  EXPECT_EQ(sysfs("1-4", "authorized"), "0") << "the stick is de-authorised on the host";
  EXPECT_EQ(sysfs("1-1", "authorized"), "1");
  EXPECT_EQ(kinds(), (std::vector<std::string>{"usb_allowed 1-1 scanner", "usb_attached 1-1 scanner",
                                               "usb_allowed 1-2 fingerprint", "usb_attached 1-2 fingerprint",
                                               "usb_allowed 1-3 label-printer", "usb_attached 1-3 label-printer",
                                               "usb_blocked 1-4 default"}));
  const UsbEvent& stick = events_.back();
  EXPECT_EQ(stick.vendor_id + ":" + stick.product_id, "0781:5567");
  EXPECT_EQ(stick.serial, "4C530001230705113355");
  EXPECT_EQ(stick.interfaces, "08:06:50");
  EXPECT_EQ(stick.reason, "no rule matched");
  EXPECT_EQ(stick.action, "present");
  EXPECT_EQ(metrics_.present.Value(), 4);
  EXPECT_EQ(metrics_.attached.Value(), 3);
  EXPECT_EQ(metrics_.blocked.Value(), 1);
  EXPECT_EQ(metrics_.decision("block", "default").Value(), 1);
  EXPECT_EQ(metrics_.decision("allow", "scanner").Value(), 1);
  const auto listed = passthrough.devices();
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[3].decision, "block");
  EXPECT_FALSE(listed[3].attached);
}

TEST_F(UsbUmockdev, NewDevicesStartDeauthorisedOnTheHost) {
  // The host controller's root hub, as the kernel shows it: new devices authorised by default.
  ASSERT_TRUE(umockdev_testbed_add_from_string(testbed_, R"(P: /devices/pci0000:00/0000:00:1d.0/usb1
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
A: authorized=1
A: authorized_default=1
A: idProduct=0002
A: idVendor=1d6b
A: product=EHCI Host Controller
H: descriptors=12010002090001406B1D020006010302010109021900010100E0000904000001090000000705810304000C
)", nullptr));
  plug("barcode-scanner");
  UdevUsb udev;
  EXPECT_EQ(udev.root_hubs(), (std::vector<std::string>{"/sys/devices/pci0000:00/0000:00:1d.0/usb1"}));
  EXPECT_EQ(udev.present().size(), 1u) << "the root hub is not a peripheral";
  auto passthrough = make(kCabinetRules);
  passthrough.guard_controllers(udev.root_hubs());
  std::ifstream in("/sys/devices/pci0000:00/0000:00:1d.0/usb1/authorized_default");
  std::string value;
  std::getline(in, value);
  EXPECT_EQ(value, "0");
  ASSERT_EQ(kinds(), (std::vector<std::string>{"usb_controller_guarded usb1 default"}));
}

TEST_F(UsbUmockdev, HotplugAddAndRemoveFollowTheMonitor) {
  UdevUsb udev;
  auto passthrough = make(kCabinetRules);
  passthrough.on_present(udev.present());
  const auto scanner = plug("barcode-scanner");  // umockdev announces it with an "add" uevent
  const auto added = next_event(udev);
  EXPECT_EQ(added.action, UsbUevent::Action::Add);
  EXPECT_EQ(added.device.port, "1-1");
  EXPECT_EQ(added.device.serial, "S19042");
  passthrough.on_uevent(added);
  EXPECT_EQ(guest_.calls, (std::vector<std::string>{"attach 1-1"}));
  EXPECT_EQ(metrics_.attached.Value(), 1);

  uevent(scanner, "remove");
  umockdev_testbed_remove_device(testbed_, scanner.c_str());
  const auto removed = next_event(udev);
  EXPECT_EQ(removed.action, UsbUevent::Action::Remove);
  EXPECT_EQ(removed.device.syspath, scanner);
  passthrough.on_uevent(removed);
  EXPECT_EQ(guest_.calls, (std::vector<std::string>{"attach 1-1", "detach 1-1"}));
  EXPECT_EQ(kinds().back(), "usb_removed 1-1 scanner");
  EXPECT_EQ(metrics_.present.Value(), 0);
  EXPECT_EQ(metrics_.attached.Value(), 0);
  // Plugged again: back in the guest.
  plug("barcode-scanner");
  passthrough.on_uevent(next_event(udev));
  EXPECT_EQ(guest_.calls.back(), "attach 1-1");

  // A stick plugged while the cabinet runs never reaches the guest and is de-authorised.
  plug("usb-stick");
  passthrough.on_uevent(next_event(udev));
  EXPECT_EQ(guest_.calls.back(), "attach 1-1");
  EXPECT_EQ(sysfs("1-4", "authorized"), "0");
  EXPECT_EQ(kinds().back(), "usb_blocked 1-4 default");
}

TEST_F(UsbUmockdev, ADeviceWhoseInterfacesChangeIsJudgedAgain) {
  const auto scanner = plug("barcode-scanner");
  UdevUsb udev;
  auto passthrough = make(kCabinetRules);
  passthrough.on_present(udev.present());
  ASSERT_EQ(guest_.calls, (std::vector<std::string>{"attach 1-1"}));
  // The "scanner" now presents the keyboard-with-storage's descriptors (a BadUSB switching
  // configuration): the same ids and serial, a storage interface more.
  auto badusb = vitrine::testing::keyboard_with_storage();
  umockdev_testbed_set_attribute_binary(testbed_, scanner.c_str(), "descriptors", badusb.descriptors.data(),
                                        static_cast<gssize>(badusb.descriptors.size()));
  uevent(scanner, "change");
  const auto changed = next_event(udev);
  EXPECT_EQ(changed.action, UsbUevent::Action::Change);
  passthrough.on_uevent(changed);
  EXPECT_EQ(guest_.calls, (std::vector<std::string>{"attach 1-1", "detach 1-1"}));
  EXPECT_EQ(sysfs("1-1", "authorized"), "0");
  const auto k = kinds();
  ASSERT_GE(k.size(), 2u);
  EXPECT_EQ(k[k.size() - 2], "usb_detached 1-1 default");
  EXPECT_EQ(k.back(), "usb_blocked 1-1 default");
  EXPECT_EQ(events_.back().interfaces, "03:01:01 08:06:50");
  EXPECT_EQ(events_.back().action, "change");
  // A change event that changes nothing the rules read decides nothing again.
  const size_t before = events_.size();
  uevent(scanner, "change");
  passthrough.on_uevent(next_event(udev));
  EXPECT_EQ(events_.size(), before);
}

TEST_F(UsbUmockdev, AKeyboardCarryingStorageIsBlockedEvenByALooseHidRule) {
  plug("keyboard-with-storage");
  UdevUsb udev;
  auto passthrough = make({"allow with-interface one-of { 03:*:* 08:*:* }"});
  passthrough.on_present(udev.present());
  EXPECT_TRUE(guest_.calls.empty());
  EXPECT_EQ(sysfs("1-5", "authorized"), "0");
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, "usb_blocked");
  EXPECT_EQ(events_[0].rule, "usb.rules[0]");
  EXPECT_EQ(events_[0].reason, "mass storage, and the rule does not name its id and serial");
}

TEST_F(UsbUmockdev, AllowedDevicesGoBackIntoARestartedGuestAndFailuresAreCounted) {
  plug("barcode-scanner");
  plug("label-printer");
  UdevUsb udev;
  guest_.up = false;  // not running yet: nothing to attach to
  auto passthrough = make(kCabinetRules);
  passthrough.on_present(udev.present());
  EXPECT_TRUE(guest_.calls.empty());
  guest_.up = true;
  passthrough.on_guest_started();
  EXPECT_EQ(guest_.calls, (std::vector<std::string>{"attach 1-1", "attach 1-3"}));
  guest_.accept = false;
  passthrough.on_guest_started();
  EXPECT_EQ(metrics_.attach_failure("scanner").Value(), 1);
  EXPECT_EQ(metrics_.attached.Value(), 0);
  EXPECT_EQ(kinds().back(), "usb_attach_failed 1-3 label-printer");
  EXPECT_EQ(events_.back().reason, "the guest refused");
}

TEST_F(UsbUmockdev, APolicyReloadJudgesEveryDeviceAgain) {
  plug("barcode-scanner");
  plug("usb-stick");
  UdevUsb udev;
  auto passthrough = make(kCabinetRules);
  passthrough.on_present(udev.present());
  passthrough.set_rules(compile({R"(allow id 0781:5567 serial "4C530001230705113355" label "update-stick")"}));
  EXPECT_EQ(guest_.calls, (std::vector<std::string>{"attach 1-1", "detach 1-1", "attach 1-4"}));
  EXPECT_EQ(sysfs("1-1", "authorized"), "0");
  EXPECT_EQ(sysfs("1-4", "authorized"), "1");
  EXPECT_EQ(kinds().back(), "usb_attached 1-4 update-stick");
}

}  // namespace
