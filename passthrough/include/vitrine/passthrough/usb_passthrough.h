// The USB side of passthrough: every device present, added, changed or removed is judged by
// the policy's USB rules; an allowed one is authorised on the host and attached to the guest,
// a blocked one de-authorised on the host (so neither host nor guest can use it), a rejected
// one removed. Each decision is an event naming the rule that matched, or the default, with
// the device's id, serial and port, and is counted. The seams (the guest, the host's sysfs,
// events) are interfaces, so that the decisions are tested without libvirt.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "vitrine/passthrough/udev_usb.h"
#include "vitrine/passthrough/usb_device.h"
#include "vitrine/passthrough/usb_rules.h"

namespace vitrine::passthrough {

// The guest's USB bus (libvirt in hostd): attach and detach one host device, live.
class GuestUsb {
 public:
  virtual ~GuestUsb() = default;
  // False with `error` set when the guest did not take the device (not running, libvirt refused).
  virtual bool attach(const UsbDeviceAttributes& device, std::string& error) = 0;
  virtual bool detach(const UsbDeviceAttributes& device, std::string& error) = 0;
  // Whether the guest runs: devices are attached only to a running guest, and again when it starts.
  virtual bool running() const = 0;
};

// The host's own authorisation of a device (sysfs `authorized`, `remove`).
class HostUsb {
 public:
  virtual ~HostUsb() = default;
  virtual bool set_authorized(const std::string& syspath, bool authorized, std::string& error) = 0;
  virtual bool remove(const std::string& syspath, std::string& error) = 0;
  // A root hub's `authorized_default`: whether devices plugged into it start authorised.
  virtual bool set_authorized_default(const std::string& root_hub, bool authorized, std::string& error) = 0;
};

// Writes sysfs attribute files.
class SysfsHostUsb : public HostUsb {
 public:
  bool set_authorized(const std::string& syspath, bool authorized, std::string& error) override;
  bool remove(const std::string& syspath, std::string& error) override;
  bool set_authorized_default(const std::string& root_hub, bool authorized, std::string& error) override;
};

struct UsbEvent {
  std::string kind;    // usb_allowed, usb_blocked, usb_rejected, usb_attached, usb_attach_failed,
                       // usb_detached, usb_removed, usb_host_refused, usb_controller_guarded
  std::string action;  // the uevent that led here: present, add, change, remove, guest_started
  std::string vendor_id, product_id, serial, name, port;
  std::string interfaces;  // "03:01:01 08:06:50"
  std::string rule;        // label, "usb.rules[N]" or "default"
  std::string rule_text;
  std::string reason;
};

using UsbEventSink = std::function<void(const UsbEvent&)>;

// What `vitrine devices` lists.
struct UsbDeviceView {
  std::string port, vendor_id, product_id, serial, name, interfaces;
  std::string decision;  // allow, block, reject
  std::string rule, reason;
  bool attached = false;
};

class UsbMetrics {
 public:
  explicit UsbMetrics(prometheus::Registry& registry);
  prometheus::Gauge& present;
  prometheus::Gauge& attached;
  prometheus::Gauge& blocked;
  prometheus::Counter& decision(const std::string& decision, const std::string& rule);
  prometheus::Counter& attach_failure(const std::string& rule);

 private:
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& attach_failures_;
};

class UsbPassthrough {
 public:
  UsbPassthrough(UsbRuleSet rules, GuestUsb& guest, HostUsb& host, UsbEventSink events, UsbMetrics& metrics);

  // First of all: devices plugged from now on start de-authorised on the host, so that none
  // is usable (a BadUSB keyboard typing into the host's console) before it is judged.
  void guard_controllers(const std::vector<std::string>& root_hubs);
  // The devices present when passthrough starts, then each uevent as it comes.
  void on_present(const std::vector<UsbDeviceAttributes>& devices);
  void on_uevent(const UsbUevent& event);
  // The guest (re)started: it has none of its devices; every allowed one is attached again.
  void on_guest_started();
  // A new policy: every device present is judged again.
  void set_rules(UsbRuleSet rules);

  std::vector<UsbDeviceView> devices() const;
  size_t rule_count() const { return rules_.size(); }

 private:
  struct Present {
    UsbDeviceAttributes attributes;
    UsbDeviceDescription description;
    UsbDecision decision;
    bool attached = false;
  };
  void judge(const UsbDeviceAttributes& device, const std::string& action);
  void apply(Present& p, const std::string& action);
  void attach(Present& p, const std::string& action);
  void detach(Present& p, const std::string& action, const char* kind);
  void emit(const Present& p, const std::string& kind, const std::string& action, const std::string& reason) const;
  void update_gauges();
  void decisions_at_zero();

  UsbRuleSet rules_;
  GuestUsb& guest_;
  HostUsb& host_;
  UsbEventSink events_;
  UsbMetrics& metrics_;
  std::map<std::string, Present> present_;  // by syspath
};

}  // namespace vitrine::passthrough
