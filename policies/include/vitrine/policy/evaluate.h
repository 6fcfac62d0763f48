// The question the data path asks of a policy at every packet of a pending flow: given what
// is known now, do all rules that could still match agree?
#pragma once

#include <cstdint>
#include <optional>

#include "vitrine/common/net_types.h"
#include "vitrine/policy/policy.h"

namespace vitrine::policy {

// What the classifier knows of a flow's application protocol.
struct L7Facts {
  uint16_t master = 0;  // nDPI ids; 0 is Unknown
  uint16_t app = 0;
  uint64_t risks = 0;   // nDPI's risk bitmap
  // What the flow's messages said (DNS name, TLS SNI, ...); null: nothing reported.
  const L7Attributes* attributes = nullptr;
  // Nothing more will be reported for this judgement: a rule's condition on an attribute not
  // reported fails. False while an inspector may still report it: the rule waits.
  bool attributes_final = true;
  // The risks are all the classifier will report. False while it is still at work on a flow an
  // inspector named first: a rule that asks for a risk not reported yet waits.
  bool risks_final = true;
};

struct FlowFacts {
  Direction direction = Direction::Egress;
  uint8_t ip_protocol = 0;    // IPPROTO_TCP, IPPROTO_UDP, ...
  IpAddr peer;                // the address that is not the guest
  uint16_t service_port = 0;  // the responder's port (0 for protocols without ports)
  // nullopt while the classifier is still working; a value once it has decided (which may
  // be Unknown, if it gave up).
  std::optional<L7Facts> l7;
};

inline constexpr int kDefaultRule = -1;

struct Decision {
  bool definitive = false;  // false: rules that disagree still depend on the L7 protocol
  Action action = Action::Deny;
  int rule = kDefaultRule;  // index into Policy::rules, or kDefaultRule
};

// First matching rule wins. A rule with protocols cannot match or be ruled out until l7 is
// known; the decision is definitive as soon as every rule that could still match (and the
// rule or default that would match otherwise) prescribes the same action.
Decision evaluate(const Policy& policy, const FlowFacts& facts);
// The same, walking every rule whatever the index: the reference the index is tested against.
Decision evaluate_linear(const Policy& policy, const FlowFacts& facts);

// Whether a rule's transport admits an IP protocol; a rule that names ports only means TCP or
// UDP even with transport 'any'.
bool transport_matches(Transport t, uint8_t ip_protocol, bool rule_has_ports);

}  // namespace vitrine::policy
