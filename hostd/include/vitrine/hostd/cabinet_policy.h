// The cabinet's policy as hostd holds it: the bytes of one read of the file, whose USB rules
// hostd applies and which it hands to netmon on the control socket for the network rules, so
// that both come from one version, named by one sha256. hostd keeps its own copy of the bytes
// in force (in its root-only state directory): a restarted hostd that adopts a running netmon
// takes the USB rules from the very bytes that netmon enforces, never from what the file
// says now, and never from netmon (which parses hostile bytes and is trusted with nothing).
#pragma once

#include <optional>
#include <string>

#include "vitrine/passthrough/usb_rules.h"

namespace vitrine::hostd {

struct PolicyBytes {
  std::string source;  // the file it was read from
  std::string text;
  std::string sha256;

  // Throws vitrine::ConfigError ("cannot open the policy file ...").
  static PolicyBytes read(const std::string& path);
};

// The policy's USB rules, compiled with USBGuard's parser. Throws ConfigError (file:line:column)
// or std::runtime_error (a rule USBGuard refuses). The network part is netmon's to validate:
// hostd does not link nDPI, so any protocol name passes here, and a policy netmon refuses is
// never put in force, USB rules included.
passthrough::UsbRuleSet usb_rules_of(const PolicyBytes& policy);

// The copy of the bytes in force, written aside and renamed into place (0600).
void save_policy_in_force(const std::string& path, const PolicyBytes& policy);
// The copy, if there is one whose sha256 is `expected_sha256`.
std::optional<PolicyBytes> load_policy_in_force(const std::string& path, const std::string& expected_sha256);

}  // namespace vitrine::hostd
