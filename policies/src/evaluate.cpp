#include "vitrine/policy/evaluate.h"

#include <netinet/in.h>

#include <algorithm>

namespace vitrine::policy {

namespace {

bool transport_matches(Transport t, uint8_t ip_protocol, bool rule_has_ports) {
  switch (t) {
    case Transport::Tcp: return ip_protocol == IPPROTO_TCP;
    case Transport::Udp: return ip_protocol == IPPROTO_UDP;
    case Transport::Icmp: return ip_protocol == IPPROTO_ICMP || ip_protocol == IPPROTO_ICMPV6;
    case Transport::Any:
      // A rule that names ports can only mean protocols that have ports.
      return !rule_has_ports || ip_protocol == IPPROTO_TCP || ip_protocol == IPPROTO_UDP;
  }
  return false;
}

bool l3l4_matches(const Rule& rule, const FlowFacts& f) {
  if (rule.direction != f.direction) return false;
  if (!transport_matches(rule.transport, f.ip_protocol, !rule.ports.empty())) return false;
  if (!rule.any_peer &&
      std::none_of(rule.peers.begin(), rule.peers.end(),
                   [&](const Cidr& c) { return c.contains(f.peer); }))
    return false;
  if (!rule.ports.empty() &&
      std::none_of(rule.ports.begin(), rule.ports.end(), [&](const PortRange& p) {
        return f.service_port >= p.first && f.service_port <= p.last;
      }))
    return false;
  return true;
}

bool l7_matches(const Rule& rule, const L7Facts& l7) {
  const bool protocol = rule.protocols.empty() ||
                        std::any_of(rule.protocols.begin(), rule.protocols.end(), [&](uint16_t id) {
                          return id != 0 && (id == l7.master || id == l7.app);
                        });
  // Any one of the rule's risks will do.
  return protocol && (rule.risks == 0 || (rule.risks & l7.risks) != 0);
}

}  // namespace

Decision evaluate(const Policy& policy, const FlowFacts& facts) {
  // Actions of earlier rules that might still match once the L7 protocol is known.
  bool undecided_seen = false;
  bool undecided_disagree = false;
  Action undecided_action = Action::Deny;

  auto conclude = [&](Action action, int rule) {
    Decision d;
    d.action = action;
    d.rule = rule;
    d.definitive = !undecided_seen || (!undecided_disagree && undecided_action == action);
    return d;
  };

  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const Rule& rule = policy.rules[i];
    if (!l3l4_matches(rule, facts)) continue;
    const int index = static_cast<int>(i);
    if (rule.protocols.empty() && rule.risks == 0) return conclude(rule.action, index);
    if (facts.l7) {
      if (l7_matches(rule, *facts.l7)) return conclude(rule.action, index);
      continue;
    }
    if (undecided_seen && undecided_action != rule.action) undecided_disagree = true;
    undecided_seen = true;
    undecided_action = rule.action;
  }
  return conclude(policy.default_action, kDefaultRule);
}

}  // namespace vitrine::policy
