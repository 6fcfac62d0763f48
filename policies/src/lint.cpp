#include "vitrine/policy/lint.h"

#include <strings.h>

#include <algorithm>

namespace vitrine::policy {

namespace {

bool cidr_within(const Cidr& inner, const Cidr& outer) {
  return outer.prefix_bits <= inner.prefix_bits && outer.contains(inner.network);
}

// The transports a rule can match: ports imply TCP or UDP (evaluate.cpp's reading of 'any').
bool transport_within(const Rule& later, const Rule& earlier) {
  if (earlier.transport == later.transport) return true;
  if (earlier.transport != Transport::Any) return false;
  return earlier.ports.empty() || later.transport == Transport::Tcp || later.transport == Transport::Udp;
}

bool peers_within(const Rule& later, const Rule& earlier) {
  if (earlier.any_peer) return true;
  if (later.any_peer) return false;
  return std::all_of(later.peers.begin(), later.peers.end(), [&](const Cidr& c) {
    return std::any_of(earlier.peers.begin(), earlier.peers.end(),
                       [&](const Cidr& o) { return cidr_within(c, o); });
  });
}

bool ports_within(const Rule& later, const Rule& earlier) {
  if (earlier.ports.empty()) return true;
  if (later.ports.empty()) return false;
  return std::all_of(later.ports.begin(), later.ports.end(), [&](const PortRange& p) {
    return std::any_of(earlier.ports.begin(), earlier.ports.end(),
                       [&](const PortRange& o) { return o.first <= p.first && p.last <= o.last; });
  });
}

bool protocols_within(const Rule& later, const Rule& earlier) {
  if (earlier.protocols.empty()) return true;
  if (later.protocols.empty()) return false;
  return std::all_of(later.protocols.begin(), later.protocols.end(), [&](uint16_t id) {
    return std::find(earlier.protocols.begin(), earlier.protocols.end(), id) != earlier.protocols.end();
  });
}

// Every value `narrow` accepts, `wide` accepts: its patterns are among wide's, or wide has '*'.
bool condition_within(const L7Condition& narrow, const L7Condition& wide) {
  if (info(wide.attr).compare == Compare::AtLeastVersion)
    return value_rank(narrow.attr, narrow.patterns.front()) >= value_rank(wide.attr, wide.patterns.front());
  const bool nocase = info(wide.attr).compare == Compare::GlobNoCase;
  return std::all_of(narrow.patterns.begin(), narrow.patterns.end(), [&](const std::string& n) {
    return std::any_of(wide.patterns.begin(), wide.patterns.end(), [&](const std::string& w) {
      return w == "*" || (nocase ? strcasecmp(w.c_str(), n.c_str()) == 0 : w == n);
    });
  });
}

// Each of the earlier rule's conditions is implied by one of the later rule's.
bool conditions_within(const Rule& later, const Rule& earlier) {
  return std::all_of(earlier.l7.begin(), earlier.l7.end(), [&](const L7Condition& e) {
    return std::any_of(later.l7.begin(), later.l7.end(),
                       [&](const L7Condition& l) { return l.attr == e.attr && condition_within(l, e); });
  });
}

}  // namespace

// A flow matches a rule with risks when it carries any one of them.
bool risks_within(const Rule& later, const Rule& earlier) {
  if (earlier.risks == 0) return true;
  return later.risks != 0 && (later.risks & ~earlier.risks) == 0;
}

bool covers(const Rule& earlier, const Rule& later) {
  return earlier.direction == later.direction && transport_within(later, earlier) &&
         peers_within(later, earlier) && ports_within(later, earlier) && protocols_within(later, earlier) &&
         risks_within(later, earlier) && conditions_within(later, earlier);
}

std::vector<PolicyWarning> lint(const Policy& policy) {
  std::vector<PolicyWarning> warnings;
  for (size_t j = 0; j < policy.rules.size(); ++j) {
    const Rule& later = policy.rules[j];
    for (size_t i = 0; i < j; ++i) {
      const Rule& earlier = policy.rules[i];
      if (!covers(earlier, later)) continue;
      warnings.push_back({j, later.source, later.line, later.column,
                          "rule '" + later.name + "' is never reached: rule '" + earlier.name +
                              "' before it matches every flow it matches (and decides " +
                              to_string(earlier.action) + ")"});
      break;
    }
  }
  return warnings;
}

}  // namespace vitrine::policy
