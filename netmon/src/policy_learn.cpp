#include "vitrine/netmon/policy_learn.h"
#include "vitrine/netmon/policy_test.h"

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

namespace vitrine::netmon {

std::vector<ObservedFlow> flows_from_events(const std::string& events_path, size_t& unreadable) {
  std::ifstream in(events_path);
  if (!in) throw std::runtime_error("cannot read " + events_path);
  std::vector<ObservedFlow> out;
  std::string line;
  unreadable = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) {
      ++unreadable;
      continue;
    }
    const std::string kind = j.value("event", "");
    if ((kind != "flow_denied" && kind != "flow_would_deny") || !j.contains("src")) continue;
    out.push_back(observed_flow(j, "deny"));
  }
  return out;
}

std::string draft_policy(const std::vector<ObservedFlow>& flows, const IpAddr& guest_ip, const MacAddr& guest_mac,
                         const std::string& source) {
  using Key = std::tuple<std::string, std::string, std::string, uint16_t, std::string>;
  std::set<Key> seen;
  std::ostringstream rules;
  size_t n = 0, skipped = 0;
  for (const auto& f : flows) {
    const bool egress = f.src == guest_ip.str();
    if (!egress && f.dst != guest_ip.str()) {
      ++skipped;
      continue;
    }
    const std::string direction = egress ? "egress" : "ingress";
    const std::string peer = egress ? f.dst : f.src;
    std::string transport = f.l4 == "TCP" ? "tcp" : f.l4 == "UDP" ? "udp" : "icmp";
    const uint16_t port = transport == "icmp" ? 0 : f.dport;
    // nDPI's label is "Master.App" or one name; only a name it inspected is worth a rule.
    std::string protocol = f.protocol == "Unknown" ? "" : f.protocol.substr(f.protocol.rfind('.') + 1);
    if (!seen.insert({direction, peer, transport, port, protocol}).second) continue;
    ++n;
    rules << "  - name: learned-" << n << "\n"
          << "    direction: " << direction << "\n"
          << "    peers: [" << peer << "]\n"
          << "    transport: " << transport << "\n";
    if (port != 0) rules << "    ports: [" << port << "]\n";
    if (!protocol.empty()) rules << "    protocols: [" << protocol << "]\n";
    rules << "    action: allow\n";
  }
  std::ostringstream out;
  out << "# A DRAFT learned from " << source << ": " << n << " rules from " << flows.size() << " flows"
      << (skipped ? " (" + std::to_string(skipped) + " not involving the guest left out)" : std::string()) << ".\n"
      << "# Review every rule before enforcing it: what a cabinet did is not what it should do.\n"
      << "apiVersion: vitrine/v1\n"
      << "name: learned\n"
      << "guest: {mac: \"" << guest_mac.str() << "\", ipv4: " << guest_ip.str() << "}\n"
      << "defaultAction: deny\n"
      << "rules:\n"
      << (n ? rules.str() : std::string("  []\n"));
  return out.str();
}

}  // namespace vitrine::netmon
