#include "vitrine/passthrough/usb_passthrough.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace vitrine::passthrough {

namespace {

bool write_attribute(const std::string& path, const char* value, std::string& error) {
  std::ofstream out(path);
  if (out) out << value;
  if (out) out.flush();
  if (!out) {
    error = "cannot write '" + std::string(value) + "' to " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return out;
}

}  // namespace

bool SysfsHostUsb::set_authorized(const std::string& syspath, bool authorized, std::string& error) {
  return write_attribute(syspath + "/authorized", authorized ? "1" : "0", error);
}

bool SysfsHostUsb::remove(const std::string& syspath, std::string& error) {
  return write_attribute(syspath + "/remove", "1", error);
}

bool SysfsHostUsb::set_authorized_default(const std::string& root_hub, bool authorized, std::string& error) {
  return write_attribute(root_hub + "/authorized_default", authorized ? "1" : "0", error);
}

UsbMetrics::UsbMetrics(prometheus::Registry& registry)
    : present(prometheus::BuildGauge()
                  .Name("vitrine_usb_devices_present")
                  .Help("USB devices plugged into the host, whatever their decision")
                  .Register(registry)
                  .Add({})),
      attached(prometheus::BuildGauge()
                   .Name("vitrine_usb_devices_attached")
                   .Help("USB devices attached to the guest")
                   .Register(registry)
                   .Add({})),
      blocked(prometheus::BuildGauge()
                  .Name("vitrine_usb_devices_blocked")
                  .Help("USB devices present that the policy does not allow (de-authorised on the host)")
                  .Register(registry)
                  .Add({})),
      decisions_(prometheus::BuildCounter()
                     .Name("vitrine_usb_decisions_total")
                     .Help("Decisions on USB devices, by decision and by the rule that made it ('default': none matched)")
                     .Register(registry)),
      attach_failures_(prometheus::BuildCounter()
                           .Name("vitrine_usb_attach_failures_total")
                           .Help("Allowed USB devices the guest did not take, by rule")
                           .Register(registry)) {}

prometheus::Counter& UsbMetrics::decision(const std::string& decision, const std::string& rule) {
  return decisions_.Add({{"decision", decision}, {"rule", rule}});
}

prometheus::Counter& UsbMetrics::attach_failure(const std::string& rule) { return attach_failures_.Add({{"rule", rule}}); }

UsbPassthrough::UsbPassthrough(UsbRuleSet rules, GuestUsb& guest, HostUsb& host, UsbEventSink events,
                               UsbMetrics& metrics)
    : rules_(std::move(rules)), guest_(guest), host_(host), events_(std::move(events)), metrics_(metrics) {
  decisions_at_zero();
}

// Each rule's decision counter (and the default's) at 0 from the start: Prometheus's increase()
// does not count a series' first sample, and the first blocked device must raise its alert.
void UsbPassthrough::decisions_at_zero() {
  for (const auto& [target, rule] : rules_.decisions()) metrics_.decision(to_string(target), rule);
  metrics_.decision(to_string(UsbTarget::Block), "default");
}

void UsbPassthrough::guard_controllers(const std::vector<std::string>& root_hubs) {
  for (const auto& hub : root_hubs) {
    std::string error;
    UsbEvent e;
    e.action = "present";
    e.port = hub.substr(hub.rfind('/') + 1);
    e.rule = "default";
    if (host_.set_authorized_default(hub, false, error)) {
      e.kind = "usb_controller_guarded";
      e.reason = "devices plugged here start de-authorised until judged";
    } else {
      e.kind = "usb_host_refused";
      e.reason = error;
    }
    if (events_) events_(e);
  }
}

void UsbPassthrough::on_present(const std::vector<UsbDeviceAttributes>& devices) {
  for (const auto& d : devices) judge(d, "present");
  update_gauges();
}

void UsbPassthrough::on_uevent(const UsbUevent& event) {
  if (event.action == UsbUevent::Action::Remove) {
    const auto it = present_.find(event.device.syspath);
    if (it == present_.end()) return;
    if (it->second.attached) detach(it->second, "remove", "usb_detached");
    emit(it->second, "usb_removed", "remove", "unplugged");
    present_.erase(it);
  } else {
    judge(event.device, to_string(event.action));
  }
  update_gauges();
}

void UsbPassthrough::on_guest_started() {
  for (auto& [path, p] : present_) {
    p.attached = false;  // a new QEMU has none of the old one's devices
    if (p.decision.target == UsbTarget::Allow) attach(p, "guest_started");
  }
  update_gauges();
}

void UsbPassthrough::set_rules(UsbRuleSet rules) {
  rules_ = std::move(rules);
  decisions_at_zero();
  for (auto& [path, p] : present_) {
    const UsbDecision before = p.decision;
    p.decision = rules_.decide(p.description);
    if (p.decision.target != before.target || p.decision.rule != before.rule) apply(p, "policy_reload");
  }
  update_gauges();
}

void UsbPassthrough::judge(const UsbDeviceAttributes& device, const std::string& action) {
  auto [it, added] = present_.try_emplace(device.syspath);
  Present& p = it->second;
  const auto description = describe(device);
  if (!added && description.ok == p.description.ok && description.hash == p.description.hash &&
      description.summary == p.description.summary)
    return;  // a change event that changes nothing the rules look at
  p.attributes = device;
  p.description = description;
  p.decision = rules_.decide(p.description);
  apply(p, action);
}

void UsbPassthrough::apply(Present& p, const std::string& action) {
  const UsbDecision& d = p.decision;
  metrics_.decision(to_string(d.target), d.rule).Increment();
  std::string error;
  switch (d.target) {
    case UsbTarget::Allow:
      emit(p, "usb_allowed", action, d.reason);
      if (!host_.set_authorized(p.attributes.syspath, true, error)) {
        emit(p, "usb_host_refused", action, error);
        metrics_.attach_failure(d.rule).Increment();
        return;
      }
      if (!p.attached && guest_.running()) attach(p, action);
      return;
    case UsbTarget::Block:
    case UsbTarget::Reject:
      // Out of the guest first, then out of the host's reach.
      if (p.attached) detach(p, action, "usb_detached");
      emit(p, d.target == UsbTarget::Block ? "usb_blocked" : "usb_rejected", action, d.reason);
      if (!host_.set_authorized(p.attributes.syspath, false, error))
        emit(p, "usb_host_refused", action, error);
      else if (d.target == UsbTarget::Reject && !host_.remove(p.attributes.syspath, error))
        emit(p, "usb_host_refused", action, error);
      return;
  }
}

void UsbPassthrough::attach(Present& p, const std::string& action) {
  std::string error;
  if (guest_.attach(p.attributes, error)) {
    p.attached = true;
    emit(p, "usb_attached", action, "");
  } else {
    metrics_.attach_failure(p.decision.rule).Increment();
    emit(p, "usb_attach_failed", action, error);
  }
}

void UsbPassthrough::detach(Present& p, const std::string& action, const char* kind) {
  std::string error;
  const bool ok = guest_.detach(p.attributes, error);
  p.attached = false;  // gone from the guest either way: a failed detach is recorded, not retried
  emit(p, kind, action, ok ? "" : error);
}

void UsbPassthrough::emit(const Present& p, const std::string& kind, const std::string& action,
                          const std::string& reason) const {
  if (!events_) return;
  UsbEvent e;
  e.kind = kind;
  e.action = action;
  e.vendor_id = p.attributes.vendor_id;
  e.product_id = p.attributes.product_id;
  e.serial = p.attributes.serial;
  e.name = p.attributes.name;
  e.port = p.attributes.port;
  e.interfaces = joined(p.description.interfaces);
  e.rule = p.decision.rule;
  e.rule_text = p.decision.rule_text;
  e.reason = reason;
  events_(e);
}

void UsbPassthrough::update_gauges() {
  double attached = 0, blocked = 0;
  for (const auto& [path, p] : present_) {
    attached += p.attached ? 1 : 0;
    blocked += p.decision.target == UsbTarget::Allow ? 0 : 1;
  }
  metrics_.present.Set(static_cast<double>(present_.size()));
  metrics_.attached.Set(attached);
  metrics_.blocked.Set(blocked);
}

std::vector<UsbDeviceView> UsbPassthrough::devices() const {
  std::vector<UsbDeviceView> out;
  for (const auto& [path, p] : present_) {
    UsbDeviceView v;
    v.port = p.attributes.port;
    v.vendor_id = p.attributes.vendor_id;
    v.product_id = p.attributes.product_id;
    v.serial = p.attributes.serial;
    v.name = p.attributes.name;
    v.interfaces = joined(p.description.interfaces);
    v.decision = to_string(p.decision.target);
    v.rule = p.decision.rule;
    v.reason = p.decision.reason;
    v.attached = p.attached;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace vitrine::passthrough
