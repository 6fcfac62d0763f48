#include "load_rule.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "vitrine/common/suggest.h"
#include "load_l7.h"

namespace vitrine::policy {

namespace {

using Reader = YamlReader;

PortRange parse_port(const Reader& r, const YAML::Node& n, const std::string& path) {
  const auto text = r.scalar(n, path);
  const auto dash = text.find('-');
  auto to_port = [&](std::string_view s) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v > 65535)
      r.fail(n, path, "expected a port (0-65535) or a range like 1024-2048, got '" + text + "'");
    return static_cast<uint16_t>(v);
  };
  PortRange p;
  p.first = to_port(std::string_view(text).substr(0, dash));
  p.last = dash == std::string::npos ? p.first : to_port(std::string_view(text).substr(dash + 1));
  if (p.last < p.first) r.fail(n, path, "port range '" + text + "' ends before it starts");
  return p;
}

std::vector<std::string> names_of(const Sets& sets) {
  std::vector<std::string> names;
  for (const auto& [name, _] : sets) names.push_back(name);
  return names;
}

// A rule's L7 conditions are about one protocol's flows: without 'protocols' the rule takes
// that protocol's; with them, each must be one that carries the conditions.
void imply_protocols(const Reader& r, const YAML::Node& n, const YAML::Node& protocols_node,
                     const std::string& path, const ProtocolCatalog& catalog, Rule& rule) {
  const Attribute& first = info(rule.l7.front().attr);
  for (const auto& c : rule.l7)
    if (std::string(info(c.attr).block) != first.block)
      r.fail(n, path, std::string("one rule judges one protocol: its '") + first.block + "' and '" +
                          info(c.attr).block + "' conditions can never hold together; write two rules");
  std::vector<std::pair<uint16_t, std::string>> carriers;
  for (const char* name : first.protocols) {
    if (name == nullptr) continue;
    const auto id = catalog.protocol_id(name);
    if (!id) r.fail(n, path, std::string("the classifier knows no protocol '") + name + "' for '" + first.block + "' conditions");
    carriers.emplace_back(*id, name);
  }
  if (rule.protocols.empty()) {
    for (const auto& [id, name] : carriers) {
      rule.protocols.push_back(id);
      rule.protocol_names.push_back(name);
    }
    return;
  }
  for (size_t i = 0; i < rule.protocols.size(); ++i)
    if (std::none_of(carriers.begin(), carriers.end(), [&](const auto& c) { return c.first == rule.protocols[i]; }))
      r.fail(protocols_node[i], path + ".protocols[" + std::to_string(i) + "]",
             "'" + rule.protocol_names[i] + "' flows never carry the rule's '" + first.block + "' conditions (" +
                 carriers.front().second + (carriers.size() > 1 ? " or " + carriers.back().second : "") + " flows do)");
}

// A rule's peers: addresses, CIDRs, or names of sets (whose members are added later).
void parse_peers(const Reader& r, const YAML::Node& v, const std::string& p, const Sets& sets, Rule& rule) {
  rule.any_peer = false;
  r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
    const auto text = r.scalar(item, ip);
    if (auto cidr = Cidr::parse(text)) {
      rule.peers.push_back(*cidr);
    } else if (sets.count(text) != 0) {
      rule.peer_sets.push_back(text);
    } else if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                                 text.find(':') != std::string::npos)) {
      r.fail(item, ip, "expected an address or CIDR, got '" + text + "'");  // 10.0.0.0/33
    } else {
      const auto near = closest_name(text, names_of(sets));
      r.fail(item, ip, "expected an address, a CIDR or the name of a set under 'sets', got '" + text + "'" +
                           (near ? " (did you mean '" + *near + "'?)" : ""));
    }
  });
}

void parse_protocols(const Reader& r, const YAML::Node& v, const std::string& p, const ProtocolCatalog& catalog,
                     Rule& rule) {
  r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
    const auto name = r.scalar(item, ip);
    const auto id = catalog.protocol_id(name);
    if (!id || *id == 0) {
      const auto near = closest_name(name, catalog.protocol_names());
      r.fail(item, ip, "'" + name + "' is not a protocol the classifier knows" +
                           (near ? " (did you mean '" + *near + "'?)" : ""));
    }
    rule.protocols.push_back(*id);
    rule.protocol_names.push_back(name);
  });
}

void parse_risks(const Reader& r, const YAML::Node& v, const std::string& p, const ProtocolCatalog& catalog,
                 Rule& rule) {
  r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
    const auto name = r.scalar(item, ip);
    const auto bit = catalog.risk_bit(name);
    if (!bit) {
      const auto near = closest_name(name, catalog.risk_names());
      r.fail(item, ip, "'" + name + "' is not a flow risk the classifier reports" +
                           (near ? " (did you mean '" + *near + "'?)" : ""));
    }
    rule.risks |= uint64_t{1} << *bit;
    rule.risk_names.push_back(name);
  });
}

}  // namespace

Rule parse_rule(const Reader& r, const YAML::Node& n, const std::string& path,
                const ProtocolCatalog& catalog, const Sets& sets) {
  // `sets`: every set this rule may name (its file's and an extended baseline's). Members are
  // added once the policy is whole (resolve_sets), since a site may fill a baseline's set.
  Rule rule;
  rule.source = r.source();
  rule.line = n.Mark().line + 1;
  rule.column = n.Mark().column + 1;
  bool has_name = false, has_direction = false, has_action = false;
  YAML::Node protocols_node;
  std::map<std::string, YamlReader::Field> fields = 
        {{"name", [&](const YAML::Node& v, const std::string& p) {
            rule.name = r.scalar(v, p);
            if (const auto problem = name_problem(rule.name, "rule"); !problem.empty()) r.fail(v, p, problem);
            has_name = true;
          }},
         {"direction", [&](const YAML::Node& v, const std::string& p) {
            rule.direction = r.choice<Direction>(
                v, p, {{"egress", Direction::Egress}, {"ingress", Direction::Ingress}});
            has_direction = true;
          }},
         {"peers", [&](const YAML::Node& v, const std::string& p) { parse_peers(r, v, p, sets, rule); }},
         {"ports", [&](const YAML::Node& v, const std::string& p) {
            r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
              rule.ports.push_back(parse_port(r, item, ip));
            });
          }},
         {"transport", [&](const YAML::Node& v, const std::string& p) {
            rule.transport = r.choice<Transport>(v, p,
                                                 {{"any", Transport::Any},
                                                  {"tcp", Transport::Tcp},
                                                  {"udp", Transport::Udp},
                                                  {"icmp", Transport::Icmp}});
          }},
         {"protocols", [&](const YAML::Node& v, const std::string& p) {
            protocols_node = v;
            parse_protocols(r, v, p, catalog, rule);
          }},
         {"risks", [&](const YAML::Node& v, const std::string& p) { parse_risks(r, v, p, catalog, rule); }},
         {"action", [&](const YAML::Node& v, const std::string& p) {
            rule.action = r.choice(v, p, kActions);
            has_action = true;
          }},
         {"mode", [&](const YAML::Node& v, const std::string& p) {
            rule.mode = r.choice<Mode>(v, p, {{"enforce", Mode::Enforce}, {"monitor", Mode::Monitor}});
          }}};
  for (const auto& block : l7_block_names(catalog))
    fields[block] = [&, block](const YAML::Node& v, const std::string& p) { parse_l7_block(r, catalog, block, v, p, rule.l7); };
  r.map(n, path, fields);
  if (!rule.l7.empty()) imply_protocols(r, n, protocols_node, path, catalog, rule);
  if (!has_name) r.fail(n, path, "missing 'name'");
  if (!has_direction) r.fail(n, path, "missing 'direction' (egress or ingress)");
  if (!has_action) r.fail(n, path, "missing 'action' (allow, deny or alert)");
  if (!rule.ports.empty() && rule.transport == Transport::Icmp)
    r.fail(n, path, "ICMP has no ports: drop 'ports' or change 'transport'");
  return rule;
}

}  // namespace vitrine::policy
