#include "vitrine/policy/policy.h"

namespace vitrine::policy {

const char* to_string(Action a) {
  switch (a) {
    case Action::Allow: return "allow";
    case Action::Deny: return "deny";
    case Action::Alert: return "alert";
  }
  return "?";
}

const char* to_string(Direction d) { return d == Direction::Egress ? "egress" : "ingress"; }

const char* to_string(Transport t) {
  switch (t) {
    case Transport::Any: return "any";
    case Transport::Tcp: return "tcp";
    case Transport::Udp: return "udp";
    case Transport::Icmp: return "icmp";
  }
  return "?";
}

const char* to_string(Mode m) { return m == Mode::Enforce ? "enforce" : "monitor"; }

Policy allow_all_policy() {
  Policy p;
  p.name = "allow-all (built-in)";
  p.default_action = Action::Allow;
  p.outcomes.on_undetermined = Action::Allow;
  p.outcomes.on_fragment = Action::Allow;
  p.outcomes.on_malformed = Action::Allow;
  p.outcomes.on_flow_table_full = FullTableOutcome::EvictOldest;
  return p;
}

}  // namespace vitrine::policy
