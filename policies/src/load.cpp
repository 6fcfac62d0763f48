#include "vitrine/policy/load.h"

#include <yaml-cpp/yaml.h>

#include "vitrine/common/suggest.h"
#include "vitrine/common/yaml_reader.h"
#include "load_l7.h"
#include "load_rule.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace vitrine::policy {

namespace {

constexpr const char* kApiVersion = "vitrine/v1";
using vitrine::YamlReader;
using Reader = YamlReader;

const std::vector<std::pair<const char*, Action>> kPassOrDrop = {{"allow", Action::Allow},
                                                                 {"deny", Action::Deny}};


// A set's name: a word, never something that reads as an address, so a peer is never both.
bool set_name_ok(const std::string& s) {
  return !s.empty() && s.size() <= 64 && !Cidr::parse(s) &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.';
         }) && std::isalpha(static_cast<unsigned char>(s[0]));
}

Sets parse_sets(const Reader& r, const YAML::Node& n, const std::string& path) {
  Sets sets;
  if (!n.IsMap()) r.fail(n, path, "expected a mapping of set names to lists of addresses");
  for (const auto& kv : n) {
    r.count_value(kv.first, path);
    const auto name = kv.first.as<std::string>();
    const std::string p = path + "." + name;
    if (!set_name_ok(name))
      r.fail(kv.first, p, "a set name starts with a letter and uses letters, digits, - _ . (and is not an address), got '" + name + "'");
    auto& members = sets[name];
    r.list(kv.second, p, [&](const YAML::Node& item, const std::string& ip) {
      const auto text = r.scalar(item, ip);
      auto cidr = Cidr::parse(text);
      if (!cidr) r.fail(item, ip, "expected an address or CIDR, got '" + text + "'");
      members.push_back(*cidr);
    });
  }
  return sets;
}

GuestIdentity parse_guest(const Reader& r, const YAML::Node& n, const std::string& path) {
  GuestIdentity g;
  bool has_mac = false, has_ipv4 = false;
  r.map(n, path,
        {{"mac", [&](const YAML::Node& v, const std::string& p) {
            const auto text = r.scalar(v, p);
            auto mac = MacAddr::parse(text);
            if (!mac || mac->is_multicast())
              r.fail(v, p, "expected a unicast MAC like 52:54:00:12:34:56, got '" + text + "'");
            g.mac = *mac;
            has_mac = true;
          }},
         {"ipv4", [&](const YAML::Node& v, const std::string& p) {
            const auto text = r.scalar(v, p);
            auto ip = IpAddr::parse(text);
            if (!ip || !ip->is_v4() || ip->is_unspecified() || ip->is_broadcast_or_multicast())
              r.fail(v, p, "expected a unicast IPv4 address, got '" + text + "'");
            g.ipv4 = *ip;
            has_ipv4 = true;
          }},
         {"ipv6", [&](const YAML::Node& v, const std::string& p) {
            r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
              const auto text = r.scalar(item, ip);
              auto addr = IpAddr::parse(text);
              if (!addr || addr->is_v4())
                r.fail(item, ip, "expected an IPv6 address, got '" + text + "'");
              g.ipv6.push_back(*addr);
            });
          }}});
  if (!has_mac) r.fail(n, path, "missing 'mac'");
  if (!has_ipv4) r.fail(n, path, "missing 'ipv4'");
  return g;
}

void parse_limits(const Reader& r, const YAML::Node& n, const std::string& path, Limits& l) {
  auto u32 = [&](uint32_t& field, uint64_t min, uint64_t max) {
    return [&field, &r, min, max](const YAML::Node& v, const std::string& p) {
      field = static_cast<uint32_t>(r.number(v, p, min, max));
    };
  };
  constexpr uint64_t kDay = 86400;
  r.map(n, path,
        {{"maxFlows", u32(l.max_flows, 16, 16u << 20)},
         {"tcpIdleTimeoutSeconds", u32(l.tcp_idle_timeout_s, 1, 7 * kDay)},
         {"tcpClosedTimeoutSeconds", u32(l.tcp_closed_timeout_s, 1, kDay)},
         {"tcpHalfOpenTimeoutSeconds", u32(l.tcp_half_open_timeout_s, 1, 600)},
         {"udpIdleTimeoutSeconds", u32(l.udp_idle_timeout_s, 1, 7 * kDay)},
         {"otherIdleTimeoutSeconds", u32(l.other_idle_timeout_s, 1, 7 * kDay)},
         {"holdPackets", u32(l.hold_packets, 1, 1024)},
         {"holdBytes", u32(l.hold_bytes, 1, 16u << 20)},
         {"holdMilliseconds", u32(l.hold_ms, 1, 60000)},
         {"dpiMaxPacketsTcp", u32(l.dpi_max_packets_tcp, 1, 10000)},
         {"dpiMaxPacketsUdp", u32(l.dpi_max_packets_udp, 1, 10000)},
         {"reassemblyPendingBytes", u32(l.reassembly_pending_bytes, 1024, 16u << 20)},
         {"maxUnansweredFlows", u32(l.max_unanswered_flows, 4, 16u << 20)},
         {"maxUnansweredFlowsPerSource", u32(l.max_unanswered_flows_per_source, 1, 16u << 20)}});
  if (l.max_unanswered_flows > l.max_flows / 2)
    r.fail(n, path + ".maxUnansweredFlows", "at most half of maxFlows (" + std::to_string(l.max_flows / 2) +
                                               "): answered flows must keep the other half");
}

void parse_outcomes(const Reader& r, const YAML::Node& n, const std::string& path, Outcomes& o) {
  r.map(n, path,
        {{"onUndetermined", [&](const YAML::Node& v, const std::string& p) {
            o.on_undetermined = r.choice(v, p, kActions);
          }},
         {"onFlowTableFull", [&](const YAML::Node& v, const std::string& p) {
            o.on_flow_table_full = r.choice<FullTableOutcome>(
                v, p, {{"deny", FullTableOutcome::Deny},
                       {"evictOldest", FullTableOutcome::EvictOldest}});
          }},
         {"onClassifierGaveUp", [&](const YAML::Node& v, const std::string& p) {
            o.on_classifier_gave_up = r.choice(v, p, kActions);
          }},
         {"onReassemblyLimit", [&](const YAML::Node& v, const std::string& p) {
            o.on_reassembly_limit = r.choice(v, p, kPassOrDrop);
          }},
         {"onFragment", [&](const YAML::Node& v, const std::string& p) {
            o.on_fragment = r.choice(v, p, kPassOrDrop);
          }},
         {"onMalformed", [&](const YAML::Node& v, const std::string& p) {
            o.on_malformed = r.choice(v, p, kPassOrDrop);
          }},
         {"onMidstream", [&](const YAML::Node& v, const std::string& p) {
            o.on_midstream = r.choice(v, p, kPassOrDrop);
          }}});
}

void parse_virtual_patches(const Reader& r, const YAML::Node& n, const std::string& path, Policy& policy) {
  if (!n.IsMap()) r.fail(n, path, "expected a mapping of virtual patches to deny, alert or off");
  std::vector<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(VirtualPatch::kCount); ++i) names.emplace_back(to_string(static_cast<VirtualPatch>(i)));
  for (const auto& kv : n) {
    const auto name = kv.first.as<std::string>();
    const auto patch = virtual_patch_named(name);
    if (!patch) {
      const auto near = closest_name(name, names);
      std::string known;
      for (const auto& k : names) known += (known.empty() ? "" : ", ") + k;
      r.fail(kv.first, path + "." + name, "'" + name + "' is not a virtual patch (" + known + ")" +
                                              (near ? "; did you mean '" + *near + "'?" : ""));
    }
    policy.virtual_patches[static_cast<size_t>(*patch)] = r.choice<PatchMode>(
        kv.second, path + "." + name, {{"deny", PatchMode::Deny}, {"alert", PatchMode::Alert}, {"off", PatchMode::Off}});
  }
}

// usb: {rules: ["allow id 05e0:1200 serial \"S1\"", ...]}: each rule a string, its syntax
// checked by passthrough (USBGuard's parser), its place kept for that check's errors.
void parse_usb(const Reader& r, const YAML::Node& node, const std::string& path, Policy& policy) {
  r.map(node, path, {{"rules", [&](const YAML::Node& v, const std::string& p) {
                        r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
                          const auto text = r.scalar(item, ip);
                          if (text.find_first_not_of(" \t") == std::string::npos) r.fail(item, ip, "an empty USB rule");
                          policy.usb_rules.push_back({text, r.source(), item.Mark().line + 1, item.Mark().column + 1});
                        });
                      }}});
}

// One file as written; what it leaves out may come from the baseline it extends.
struct PolicyFile {
  Policy policy;
  bool has_default = false, has_layer2 = false, has_limits = false, has_outcomes = false;
  bool has_patches = false, has_usb = false;
  std::optional<std::string> extends;
  YAML::Node extends_node;
};

PolicyFile parse_file(const Reader& r, const YAML::Node& root, const ProtocolCatalog& catalog,
                      const Sets& inherited) {
  PolicyFile file;
  Policy& policy = file.policy;
  bool has_api = false;
  bool& has_default = file.has_default;
  std::set<std::string> rule_names;
  // Sets first, wherever they are in the file: rules refer to them.
  if (root.IsMap() && root["sets"]) policy.sets = parse_sets(r, root["sets"], "sets");
  Sets known = inherited;
  for (const auto& [name, members] : policy.sets) known[name] = members;
  r.map(root, "",
        {{"apiVersion", [&](const YAML::Node& v, const std::string& p) {
            const auto text = r.scalar(v, p);
            if (text != kApiVersion)
              r.fail(v, p, std::string("expected ") + kApiVersion + ", got '" + text + "'");
            has_api = true;
          }},
         {"name", [&](const YAML::Node& v, const std::string& p) {
            policy.name = r.scalar(v, p);
            if (const auto problem = name_problem(policy.name, "policy"); !problem.empty()) r.fail(v, p, problem);
          }},
         {"sets", [](const YAML::Node&, const std::string&) {}},  // read above
         {"extends", [&](const YAML::Node& v, const std::string& p) {
            file.extends = r.scalar(v, p);
            file.extends_node = v;
          }},
         {"guest", [&](const YAML::Node& v, const std::string& p) {
            policy.guest = parse_guest(r, v, p);
          }},
         {"defaultAction", [&](const YAML::Node& v, const std::string& p) {
            policy.default_action = r.choice(v, p, kActions);
            has_default = true;
          }},
         {"layer2", [&](const YAML::Node& v, const std::string& p) {
            file.has_layer2 = true;
            r.map(v, p, {{"dhcpClient", [&](const YAML::Node& b, const std::string& bp) {
                            policy.layer2.dhcp_client = r.boolean(b, bp);
                          }},
                         {"dhcpServers", [&](const YAML::Node& b, const std::string& bp) {
                            r.list(b, bp, [&](const YAML::Node& item, const std::string& ip) {
                              const auto text = r.scalar(item, ip);
                              const auto cidr = Cidr::parse(text);
                              if (!cidr) r.fail(item, ip, "expected an address or CIDR, got '" + text + "'");
                              policy.layer2.dhcp_servers.push_back(*cidr);
                            });
                          }}});
          }},
         {"limits",
          [&](const YAML::Node& v, const std::string& p) {
            file.has_limits = true;
            parse_limits(r, v, p, policy.limits);
          }},
         {"outcomes", [&](const YAML::Node& v, const std::string& p) {
            file.has_outcomes = true;
            parse_outcomes(r, v, p, policy.outcomes);
          }},
         {"virtualPatches", [&](const YAML::Node& v, const std::string& p) {
            file.has_patches = true;
            parse_virtual_patches(r, v, p, policy);
          }},
         {"usb", [&](const YAML::Node& v, const std::string& p) {
            file.has_usb = true;
            parse_usb(r, v, p, policy);
          }},
         {"rules", [&](const YAML::Node& v, const std::string& p) {
            r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
              auto rule = parse_rule(r, item, ip, catalog, known);
              if (!rule_names.insert(rule.name).second)
                r.fail(item, ip, "rule name '" + rule.name + "' is used twice");
              policy.rules.push_back(std::move(rule));
            });
          }}});
  if (!has_api) r.fail(root, "", std::string("missing 'apiVersion: ") + kApiVersion + "'");
  return file;
}

// A site's file over the baseline it extends: the baseline's rules first (its denies hold
// whatever the site adds), then the site's; the site's sets fill or replace the baseline's;
// every other section the site gives replaces the baseline's.
Policy merge(const Reader& r, const YAML::Node& root, PolicyFile base, PolicyFile site) {
  Policy out = std::move(base.policy);
  Policy& s = site.policy;
  if (!s.name.empty()) out.name = s.name;
  if (s.guest) out.guest = s.guest;
  if (site.has_default) out.default_action = s.default_action;
  base.has_default = base.has_default || site.has_default;
  if (site.has_layer2) out.layer2 = s.layer2;
  if (site.has_limits) out.limits = s.limits;
  if (site.has_outcomes) out.outcomes = s.outcomes;
  if (site.has_patches) out.virtual_patches = s.virtual_patches;
  if (site.has_usb) out.usb_rules = std::move(s.usb_rules);
  for (auto& [name, members] : s.sets) out.sets[name] = std::move(members);
  std::set<std::string> names;
  for (const auto& rule : out.rules) names.insert(rule.name);
  for (auto& rule : s.rules) {
    if (names.count(rule.name) != 0)
      throw ConfigError(r.source(), rule.line, rule.column,
                        "rule name '" + rule.name + "' is already a rule of the baseline");
    out.rules.push_back(std::move(rule));
  }
  if (!base.has_default) r.fail(root, "", "missing 'defaultAction' (allow, deny or alert)");
  return out;
}

// A set named by many rules is copied into each (the rule index and the checks then read
// every copy): the copies are bounded, not only the file's values, which a set named a
// thousand times multiplies by its size.
void resolve_sets(Policy& policy) {
  uint64_t total = 0;
  for (auto& rule : policy.rules) {
    std::set<std::string> named;
    for (const auto& name : rule.peer_sets) {
      if (!named.insert(name).second) continue;  // a set named twice in a rule is in it once
      const auto& members = policy.sets.at(name);
      if (total + rule.peers.size() + members.size() > kMaxResolvedPeers)
        throw PolicyError(rule.source, rule.line, rule.column,
                          "rule '" + rule.name + "': the rules' peers, sets expanded, are more than " +
                              std::to_string(kMaxResolvedPeers) + " (a CIDR names many addresses at once)");
      rule.peers.insert(rule.peers.end(), members.begin(), members.end());
    }
    total += rule.peers.size();
  }
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

Policy load_policy_text(const std::string& yaml_text, const std::string& source,
                        const ProtocolCatalog& catalog) {
  const YAML::Node root = YamlReader::parse(yaml_text, source, "policy");
  const Reader r(source);
  // One level: a site extends a baseline, and a baseline extends nothing.
  std::optional<PolicyFile> base;
  if (root.IsMap() && root["extends"] && root["extends"].IsScalar()) {
    const auto name = root["extends"].as<std::string>();
    const std::string path = name.empty() || name[0] == '/' ? name : directory_of(source) + "/" + name;
    const YAML::Node base_root = YamlReader::parse(YamlReader::read_file(path, "baseline policy"), path, "policy");
    base = YamlReader::guarded(path, [&] {
      const Reader br(path);
      PolicyFile f = parse_file(br, base_root, catalog, {});
      if (f.extends) br.fail(f.extends_node, "extends", "a baseline cannot extend another policy (one level only)");
      return f;
    });
  }
  return YamlReader::guarded(source, [&] {
    PolicyFile site = parse_file(r, root, catalog, base ? base->policy.sets : Sets{});
    Policy policy;
    if (base) {
      policy = merge(r, root, std::move(*base), std::move(site));
    } else {
      if (!site.has_default) r.fail(root, "", "missing 'defaultAction' (allow, deny or alert)");
      policy = std::move(site.policy);
    }
    if (!policy.guest)
      r.fail(root, "", "missing 'guest' (the guest's mac and ipv4; a baseline without one is checked "
                       "through a site policy that extends it)");
    resolve_sets(policy);
    compile(policy);
    return policy;
  });
}

Policy load_policy_file(const std::string& path, const ProtocolCatalog& catalog) {
  return load_policy_text(YamlReader::read_file(path, "policy"), path, catalog);
}

}  // namespace vitrine::policy
