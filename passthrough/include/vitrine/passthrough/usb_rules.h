// The policy's USB rules, compiled with USBGuard's parser and matched with USBGuard's own
// matching: the first rule that applies to a device decides; none: blocked (the implicit
// default). One rule of our own on top: a device with a mass-storage interface passes only by
// a rule that names its exact id and its serial, so that no "allow with-interface 03:*:*"
// written for a keyboard lets a keyboard-plus-storage device (BadUSB) through.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vitrine/passthrough/usb_device.h"
#include "vitrine/policy/policy.h"

namespace vitrine::passthrough {

enum class UsbTarget { Allow, Block, Reject };
const char* to_string(UsbTarget t);  // "allow", "block", "reject"

struct UsbDecision {
  UsbTarget target = UsbTarget::Block;
  int rule_index = -1;     // into the policy's usb rules; -1: the implicit default or a refusal
  std::string rule;        // the rule's label (its `label` attribute, or "usb.rules[N]"), "default"
  std::string rule_text;   // as written; empty for the default
  std::string reason;      // why, in words: "rule", "no rule matched", ...
};

class UsbRuleSet {
 public:
  // Throws ConfigError at the rule's place in the policy file for a rule USBGuard's parser
  // refuses, or one with conditions (`if ...`: evaluated by USBGuard's daemon, not here).
  static UsbRuleSet compile(const std::vector<policy::UsbRuleText>& rules);

  UsbDecision decide(const UsbDeviceDescription& device) const;
  size_t size() const { return rules_.size(); }
  // Each rule's target and label: the decisions it can make.
  std::vector<std::pair<UsbTarget, std::string>> decisions() const;

  // What a policy author should know, at the rule's place: an allow rule that could match a
  // mass-storage device without naming its exact id and serial (such a device stays blocked).
  struct Warning {
    policy::UsbRuleText where;
    std::string message;
  };
  std::vector<Warning> warnings() const;

 private:
  struct Compiled;
  std::vector<std::shared_ptr<const Compiled>> rules_;
};

}  // namespace vitrine::passthrough
