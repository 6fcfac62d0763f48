// `vitrine policy explain`: for one flow, which rule decides and why each earlier rule did not,
// in the words a policy author uses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vitrine/policy/evaluate.h"

namespace vitrine::policy {

struct FlowSpec {
  uint8_t ip_protocol = 0;
  IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
};

// "tcp 10.1.2.3:1025 -> 10.1.0.10:2575" (also udp, and "icmp 10.1.2.3 -> 10.1.0.10");
// nullopt and `error` set when it does not parse.
std::optional<FlowSpec> parse_flow_spec(const std::string& text, std::string& error);

// The facts the evaluator sees, oriented by the guest's address: a flow from the guest is
// egress. Empty optional and `error` set when neither end is the guest.
std::optional<FlowFacts> facts_for(const Policy& policy, const FlowSpec& flow, std::string& error);

struct RuleExplanation {
  std::string rule;     // the rule's name, or "default"
  bool matches = false;
  std::string why;      // why it does not match, or what it decides
};

// One line per rule up to the one that decides, then the decision. `l7` given: the protocol
// the classifier would name; absent: rules that name protocols are reported as waiting.
std::vector<RuleExplanation> explain(const Policy& policy, const FlowFacts& facts);

}  // namespace vitrine::policy
