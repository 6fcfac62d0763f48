#include "vitrine/netmon/priority_lanes.h"

#include <netinet/in.h>

#include <sstream>

namespace vitrine::netmon {

namespace {

// A rule's terms at most: a site's policy names a handful of peers and ports.
constexpr size_t kMaxRuleTerms = 48;

std::string proto_word(policy::Transport t) {
  switch (t) {
    case policy::Transport::Tcp: return "tcp";
    case policy::Transport::Udp: return "udp";
    case policy::Transport::Icmp: return "icmp";
    case policy::Transport::Any: return "";
  }
  return "";
}

std::string host_or_net(const Cidr& c) {
  const bool v4 = c.network.is_v4() && c.prefix_bits >= 96;
  const unsigned bits = v4 ? c.prefix_bits - 96u : c.prefix_bits;
  if ((v4 && bits == 32) || (!v4 && bits == 128)) return "host " + c.network.str();
  if (v4) {
    const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return "net " + IpAddr::v4(c.network.v4_host_order() & mask).str() + "/" + std::to_string(bits);
  }
  return "net " + c.str();
}

std::string port_range(const policy::PortRange& r) {
  return r.first == r.last ? "port " + std::to_string(r.first)
                           : "portrange " + std::to_string(r.first) + "-" + std::to_string(r.last);
}

// One allow rule's peers and service ports, as frames from `side` carry them. Egress: the peer
// is the responder, its port the service's; ingress: the peer opens, the guest's port is the
// service's. `peer_dir` says where the peer's address is in a frame from `side`.
void rule_terms(const policy::Rule& rule, Side side, std::vector<std::string>& terms) {
  if (rule.action == policy::Action::Deny || rule.any_peer || rule.peers.empty()) return;
  const bool from_guest = side == Side::Guest;
  const std::string peer_dir = from_guest ? "dst " : "src ";
  const bool service_is_peer = rule.direction == policy::Direction::Egress;
  // The service's port is the peer's when the guest calls it, the guest's when it is called.
  const std::string port_dir = (service_is_peer == from_guest) ? "dst " : "src ";
  const std::string proto = proto_word(rule.transport);
  for (const Cidr& peer : rule.peers) {
    const std::string who = peer_dir + host_or_net(peer);
    if (rule.ports.empty() || proto.empty() || proto == "icmp") {
      terms.push_back("(" + (proto.empty() ? "" : proto + " and ") + who + ")");
    } else {
      for (const auto& range : rule.ports) terms.push_back("(" + proto + " and " + who + " and " + port_dir + port_range(range) + ")");
    }
    if (terms.size() >= kMaxRuleTerms) return;
  }
}

std::string flow_term(const LaneFlow& f, Side side) {
  const bool from_guest = side == Side::Guest;
  const std::string proto = f.ip_protocol == IPPROTO_TCP ? "tcp" : "udp";
  std::ostringstream t;
  t << "(" << proto << " and " << (from_guest ? "dst host " : "src host ") << f.peer_ip.str() << " and "
    << (from_guest ? "src port " : "dst port ") << f.guest_port << " and " << (from_guest ? "dst port " : "src port ")
    << f.peer_port << ")";
  return t.str();
}

}  // namespace

LaneFilters lane_filters(const policy::Policy& policy, Side side, const std::vector<LaneFlow>& flows) {
  LaneFilters out;
  for (size_t i = 0; i < flows.size() && i < kMaxLaneFlows; ++i)
    out.flows += (out.flows.empty() ? "" : " or ") + flow_term(flows[i], side);
  std::vector<std::string> terms;
  if (policy.guest) {
    out.arp_ip = policy.guest->ipv4.v4_host_order();
    out.arp_offset = side == Side::Guest ? 14 : 24;  // the guest's ARP as sender; ARP for it as target
    if (policy.layer2.dhcp_client)
      terms.push_back(side == Side::Guest ? "(udp and src port 68 and dst port 67)" : "(udp and src port 67 and dst port 68)");
  }
  for (const auto& rule : policy.rules) {
    rule_terms(rule, side, terms);
    if (terms.size() >= kMaxRuleTerms) break;
  }
  for (const auto& t : terms) out.services += (out.services.empty() ? "" : " or ") + t;
  return out;
}

std::string services_filter_ethernet(const LaneFilters& f) {
  std::string expr = f.services;
  if (f.arp_ip != 0) {
    const std::string arp = "(arp and arp[" + std::to_string(f.arp_offset) + ":4] = " + std::to_string(f.arp_ip) + ")";
    expr = expr.empty() ? arp : arp + " or " + expr;
  }
  return expr;
}

}  // namespace vitrine::netmon
