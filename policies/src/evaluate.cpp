#include "vitrine/policy/evaluate.h"

#include <netinet/in.h>

#include <algorithm>
#include <vector>

#include "vitrine/policy/rule_index.h"

namespace vitrine::policy {

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

namespace {

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

Match l7_matches(const Rule& rule, const L7Facts& l7) {
  const bool protocol = rule.protocols.empty() ||
                        std::any_of(rule.protocols.begin(), rule.protocols.end(), [&](uint16_t id) {
                          return id != 0 && (id == l7.master || id == l7.app);
                        });
  if (!protocol) return Match::No;
  // Any one of the rule's risks will do.
  if (rule.risks == 0 || (rule.risks & l7.risks) != 0) return Match::Yes;
  return l7.risks_final ? Match::No : Match::Unknown;
}

// First match wins over the rules `next` yields in order (each already known to match on
// direction, transport, peer and port).
template <typename Next>
Decision decide(const Policy& policy, const FlowFacts& facts, Next next) {
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

  for (int index = next(); index >= 0; index = next()) {
    const Rule& rule = policy.rules[static_cast<size_t>(index)];
    if (rule.protocols.empty() && rule.risks == 0 && rule.l7.empty()) return conclude(rule.action, index);
    if (facts.l7) {
      const Match base = l7_matches(rule, *facts.l7);
      if (base == Match::No) continue;
      const Match m = match_conditions(rule.l7, facts.l7->attributes, facts.l7->attributes_final);
      if (m == Match::No) continue;
      if (m == Match::Yes && base == Match::Yes) return conclude(rule.action, index);
      // Unknown: an inspector has yet to report what the conditions are about, or the
      // classifier what risks the flow carries.
    }
    if (undecided_seen && undecided_action != rule.action) undecided_disagree = true;
    undecided_seen = true;
    undecided_action = rule.action;
  }
  return conclude(policy.default_action, kDefaultRule);
}

}  // namespace

Decision evaluate_linear(const Policy& policy, const FlowFacts& facts) {
  size_t i = 0;
  return decide(policy, facts, [&]() -> int {
    while (i < policy.rules.size()) {
      const size_t at = i++;
      if (l3l4_matches(policy.rules[at], facts)) return static_cast<int>(at);
    }
    return -1;
  });
}

Decision evaluate(const Policy& policy, const FlowFacts& facts) {
  if (!policy.index) return evaluate_linear(policy, facts);
  thread_local std::vector<uint32_t> candidates;  // reused: no allocation per decision
  policy.index->candidates(facts, candidates);
  size_t i = 0;
  return decide(policy, facts, [&]() -> int { return i < candidates.size() ? static_cast<int>(candidates[i++]) : -1; });
}

void compile(Policy& policy) {
  policy.index = std::make_shared<const RuleIndex>(policy);
  policy.judged_blocks.clear();
  for (const auto& rule : policy.rules)
    for (const auto& c : rule.l7)
      if (!policy.judges(info(c.attr).block)) policy.judged_blocks.emplace_back(info(c.attr).block);
}

bool Policy::judges(std::string_view block) const {
  return std::find(judged_blocks.begin(), judged_blocks.end(), block) != judged_blocks.end();
}

Action Policy::midstream_outcome() const {
  if (outcomes.on_midstream) return *outcomes.on_midstream;
  const bool patched = std::any_of(virtual_patches.begin(), virtual_patches.end(),
                                   [](PatchMode m) { return m != PatchMode::Off; });
  return patched || !judged_blocks.empty() ? Action::Deny : Action::Allow;
}

}  // namespace vitrine::policy
