#include "vitrine/passthrough/usb_rules.h"

#include <usbguard/Rule.hpp>

#include "vitrine/common/yaml_reader.h"

namespace vitrine::passthrough {

struct UsbRuleSet::Compiled {
  usbguard::Rule rule;
  policy::UsbRuleText where;
  std::string label;
  UsbTarget target = UsbTarget::Block;
  bool names_id_and_serial = false;
};

const char* to_string(UsbTarget t) {
  switch (t) {
    case UsbTarget::Allow: return "allow";
    case UsbTarget::Block: return "block";
    case UsbTarget::Reject: return "reject";
  }
  return "block";
}

namespace {

using Op = usbguard::Rule::SetOperator;

// An exact id ("05e0:1200", not "05e0:*") and one serial, each a plain equality.
bool names_id_and_serial(const usbguard::Rule& rule) {
  const auto& id = rule.attributeDeviceID();
  const auto& serial = rule.attributeSerial();
  if (id.count() != 1 || serial.count() != 1) return false;
  if (id.setOperator() != Op::Equals || serial.setOperator() != Op::Equals) return false;
  const auto& value = id.get();
  return value.getVendorID() != "*" && value.getProductID() != "*" && !value.getProductID().empty() &&
         !serial.get().empty();
}

std::string parse_hint(const std::string& text) {
  const auto start = text.find_first_not_of(' ');
  const auto word = text.substr(start, text.find(' ', start) - start);
  if (word != "allow" && word != "block" && word != "reject")
    return "a rule starts with allow, block or reject, not '" + word + "'";
  return "see USBGuard's rule language: id VVVV:PPPP, serial \"...\", name \"...\", hash \"...\", "
         "via-port \"...\", with-interface CC:SS:PP, with-connect-type \"...\", label \"...\"";
}

// Whether the rule's with-interface lets a mass-storage interface (class 08) through: it lists
// none (any device), or one of class 08 or of any class.
bool may_match_mass_storage(const usbguard::Rule& rule) {
  const auto& interfaces = rule.attributeWithInterface();
  if (interfaces.count() == 0) return true;
  for (size_t i = 0; i < interfaces.count(); ++i) {
    const auto type = interfaces.get(i).typeString();
    if (type.rfind("08:", 0) == 0 || type.rfind("*", 0) == 0) return true;
  }
  return false;
}

}  // namespace

std::vector<std::pair<UsbTarget, std::string>> UsbRuleSet::decisions() const {
  std::vector<std::pair<UsbTarget, std::string>> out;
  for (const auto& c : rules_) {
    out.emplace_back(c->target, c->label);
    if (c->target == UsbTarget::Allow) out.emplace_back(UsbTarget::Block, c->label);  // mass storage refused
  }
  return out;
}

std::vector<UsbRuleSet::Warning> UsbRuleSet::warnings() const {
  std::vector<Warning> out;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Compiled& c = *rules_[i];
    if (c.target == UsbTarget::Allow && !c.names_id_and_serial && may_match_mass_storage(c.rule))
      out.push_back({c.where, "usb.rules[" + std::to_string(i) + "] may match mass-storage devices but does not name "
                              "an exact id and serial: such devices stay blocked"});
  }
  return out;
}

UsbRuleSet UsbRuleSet::compile(const std::vector<policy::UsbRuleText>& rules) {
  UsbRuleSet set;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& text = rules[i];
    auto fail = [&](const std::string& what) {
      throw ConfigError(text.source, text.line, text.column, "usb.rules[" + std::to_string(i) + "]: " + what);
    };
    auto compiled = std::make_shared<Compiled>();
    try {
      compiled->rule = usbguard::Rule::fromString(text.text);
    } catch (const std::exception&) {  // USBGuard's RuleParserError says no more than its name
      fail("not a USBGuard rule: '" + text.text + "' (" + parse_hint(text.text) + ")");
    }
    if (compiled->rule.attributeConditions().count() != 0)
      fail("rule conditions ('if ...') are evaluated by USBGuard's daemon, not by vitrine: '" + text.text + "'");
    const auto target = compiled->rule.getTarget();
    if (target != usbguard::Rule::Target::Allow && target != usbguard::Rule::Target::Block &&
        target != usbguard::Rule::Target::Reject)
      fail("a rule's target is allow, block or reject: '" + text.text + "'");
    compiled->target = target == usbguard::Rule::Target::Allow    ? UsbTarget::Allow
                       : target == usbguard::Rule::Target::Reject ? UsbTarget::Reject
                                                                  : UsbTarget::Block;
    compiled->where = text;
    const auto& label = compiled->rule.attributeLabel();
    compiled->label = label.count() == 1 && !label.get().empty() ? label.get() : "usb.rules[" + std::to_string(i) + "]";
    compiled->names_id_and_serial = names_id_and_serial(compiled->rule);
    set.rules_.push_back(std::move(compiled));
  }
  return set;
}

UsbDecision UsbRuleSet::decide(const UsbDeviceDescription& device) const {
  UsbDecision d;
  d.rule = "default";
  if (!device.ok) {
    d.reason = "not described: " + device.error;
    return d;
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Compiled& c = *rules_[i];
    if (!c.rule.appliesTo(*device.rule)) continue;
    d.rule_index = static_cast<int>(i);
    d.rule = c.label;
    d.rule_text = c.where.text;
    d.target = c.target;
    d.reason = "rule";
    if (d.target == UsbTarget::Allow && device.mass_storage && !c.names_id_and_serial) {
      d.target = UsbTarget::Block;
      d.reason = "mass storage, and the rule does not name its id and serial";
    }
    return d;
  }
  d.reason = "no rule matched";
  return d;
}

}  // namespace vitrine::passthrough
