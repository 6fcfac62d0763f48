#include "vitrine/policy/explain.h"

#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace vitrine::policy {

namespace {

bool parse_endpoint(const std::string& text, bool with_port, IpAddr& addr, uint16_t& port) {
  std::string host = text;
  if (with_port) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    const std::string p = text.substr(colon + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || v > 65535) return false;
    port = static_cast<uint16_t>(v);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  }
  const auto a = IpAddr::parse(host);
  if (!a) return false;
  addr = *a;
  return true;
}

bool transport_is(Transport t, uint8_t ip_protocol) {
  switch (t) {
    case Transport::Tcp: return ip_protocol == IPPROTO_TCP;
    case Transport::Udp: return ip_protocol == IPPROTO_UDP;
    case Transport::Icmp: return ip_protocol == IPPROTO_ICMP || ip_protocol == IPPROTO_ICMPV6;
    case Transport::Any: return true;
  }
  return false;
}

const char* l4_name(uint8_t ip_protocol) {
  return ip_protocol == IPPROTO_TCP ? "tcp" : ip_protocol == IPPROTO_UDP ? "udp" : "icmp";
}

std::string ports_of(const Rule& rule) {
  std::string out;
  for (const auto& p : rule.ports) {
    out += out.empty() ? "" : ", ";
    out += p.first == p.last ? std::to_string(p.first) : std::to_string(p.first) + "-" + std::to_string(p.last);
  }
  return out;
}

std::string list_of(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string condition_text(const L7Condition& c) {
  switch (info(c.attr).compare) {
    case Compare::AtLeastVersion: return std::string(info(c.attr).name) + " is at least " + c.patterns.front();
    case Compare::EachGlob: return std::string("each of ") + info(c.attr).name + " matches one of " + list_of(c.patterns);
    default: return std::string(info(c.attr).name) + " matches one of " + list_of(c.patterns);
  }
}

std::string conditions_of(const Rule& rule) {
  std::string out;
  for (const auto& c : rule.l7) out += (out.empty() ? "" : " and ") + condition_text(c);
  return out;
}

// Why the rule's L7 conditions do not hold for what the flow reported (the first that fails).
std::string conditions_failing(const Rule& rule, const L7Facts& l7) {
  for (const auto& c : rule.l7) {
    const std::string value = l7.attributes ? std::string(l7.attributes->get(c.attr)) : "";
    const Match m = match_conditions({c}, l7.attributes, l7.attributes_final);
    if (m == Match::Yes) continue;
    if (value.empty())
      return std::string("the flow reports no ") + info(c.attr).name + (m == Match::Unknown ? " yet: the flow waits for it" : "");
    return std::string(info(c.attr).name) + " '" + value + "' fails its condition (" + condition_text(c) + ")";
  }
  return "its conditions hold";  // not reached: the rule would have matched
}

}  // namespace

std::optional<FlowSpec> parse_flow_spec(const std::string& text, std::string& error) {
  std::istringstream in(text);
  std::string l4, from, arrow, to, extra;
  in >> l4 >> from >> arrow >> to;
  if (arrow != "->" || to.empty() || (in >> extra)) {
    error = "expected 'tcp|udp ADDR:PORT -> ADDR:PORT' or 'icmp ADDR -> ADDR', got '" + text + "'";
    return std::nullopt;
  }
  FlowSpec f;
  if (l4 == "tcp") f.ip_protocol = IPPROTO_TCP;
  else if (l4 == "udp") f.ip_protocol = IPPROTO_UDP;
  else if (l4 == "icmp") f.ip_protocol = IPPROTO_ICMP;
  else {
    error = "the transport is tcp, udp or icmp, got '" + l4 + "'";
    return std::nullopt;
  }
  const bool ports = f.ip_protocol != IPPROTO_ICMP;
  if (!parse_endpoint(from, ports, f.src, f.sport) || !parse_endpoint(to, ports, f.dst, f.dport)) {
    error = ports ? "expected ADDR:PORT on both sides of '->', got '" + text + "'"
                  : "expected an address on both sides of '->', got '" + text + "'";
    return std::nullopt;
  }
  if (f.ip_protocol == IPPROTO_ICMP && !f.src.is_v4()) f.ip_protocol = IPPROTO_ICMPV6;
  return f;
}

std::optional<FlowFacts> facts_for(const Policy& policy, const FlowSpec& flow, std::string& error) {
  if (!policy.guest) {
    error = "the policy names no guest";
    return std::nullopt;
  }
  const auto is_guest = [&](const IpAddr& a) {
    return a == policy.guest->ipv4 ||
           std::find(policy.guest->ipv6.begin(), policy.guest->ipv6.end(), a) != policy.guest->ipv6.end();
  };
  FlowFacts f;
  f.ip_protocol = flow.ip_protocol;
  f.service_port = flow.dport;  // the flow as written starts at its initiator
  if (is_guest(flow.src)) {
    f.direction = Direction::Egress;
    f.peer = flow.dst;
  } else if (is_guest(flow.dst)) {
    f.direction = Direction::Ingress;
    f.peer = flow.src;
  } else {
    error = "neither end is the guest (" + policy.guest->ipv4.str() + "): netmon never sees this flow";
    return std::nullopt;
  }
  return f;
}

std::vector<RuleExplanation> explain(const Policy& policy, const FlowFacts& facts) {
  std::vector<RuleExplanation> out;
  const Decision decision = evaluate(policy, facts);
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const Rule& rule = policy.rules[i];
    const int index = static_cast<int>(i);
    // Evaluate each rule alone, as the only rule of a policy whose default cannot be confused
    // with it, so that the reasons below come from the evaluator's own matching.
    Policy alone;
    alone.guest = policy.guest;
    alone.rules = {rule};
    alone.rules[0].action = Action::Alert;
    alone.default_action = Action::Deny;
    RuleExplanation e{rule.name, false, ""};
    if (rule.direction != facts.direction) {
      e.why = std::string("is for ") + to_string(rule.direction) + " flows; this one is " + to_string(facts.direction);
    } else if (!rule.any_peer && std::none_of(rule.peers.begin(), rule.peers.end(),
                                              [&](const Cidr& c) { return c.contains(facts.peer); })) {
      e.why = "peer " + facts.peer.str() + " is not in its peers" +
              (rule.peer_sets.empty() ? "" : " (sets " + list_of(rule.peer_sets) + ")");
    } else {
      const Decision d = evaluate(alone, facts);
      if (d.rule == 0) {
        e.matches = true;
        e.why = std::string("matches: ") + to_string(rule.action) +
                (rule.mode == Mode::Monitor && rule.action == Action::Deny ? " (monitor mode: recorded, let through)" : "");
      } else if (!d.definitive && !facts.l7 && (!rule.protocols.empty() || rule.risks != 0)) {
        std::string what;
        if (!rule.protocols.empty()) what = "names " + list_of(rule.protocol_names);
        if (rule.risks != 0) what += std::string(what.empty() ? "" : " and ") + "reports one of " + list_of(rule.risk_names);
        if (!rule.l7.empty()) what += " and " + conditions_of(rule);
        e.why = "would match if the classifier " + what + ": the flow waits for it";
      } else if (!rule.protocols.empty() && facts.l7 &&
                 std::none_of(rule.protocols.begin(), rule.protocols.end(),
                              [&](uint16_t id) { return id == facts.l7->master || id == facts.l7->app; })) {
        e.why = "the protocol is not " + list_of(rule.protocol_names);
      } else if (rule.risks != 0 && facts.l7 && (rule.risks & facts.l7->risks) == 0) {
        e.why = "the flow carries none of its risks (" + list_of(rule.risk_names) + ")";
      } else if (!rule.l7.empty() && facts.l7) {
        e.why = conditions_failing(rule, *facts.l7);
      } else if (rule.transport != Transport::Any && !transport_is(rule.transport, facts.ip_protocol)) {
        e.why = std::string("is for ") + to_string(rule.transport) + "; this flow is " + l4_name(facts.ip_protocol);
      } else {
        e.why = "port " + std::to_string(facts.service_port) + " is not in its ports (" + ports_of(rule) + ")";
      }
    }
    out.push_back(e);
    if (index == decision.rule) break;
  }
  RuleExplanation verdict{"verdict", true, ""};
  verdict.why = std::string(to_string(decision.action)) + " by " +
                (decision.rule == kDefaultRule ? "the default action" : "rule '" + policy.rules[decision.rule].name + "'") +
                (decision.definitive ? "" : " if no earlier protocol rule matches once the classifier decides");
  out.push_back(verdict);
  return out;
}

}  // namespace vitrine::policy
