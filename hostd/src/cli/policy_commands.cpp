// `vitrine policy check`, `explain`, `test` and `learn`: a policy file read as netmon reads it,
// with nDPI's names, and judged against flows given by hand or by a capture.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.h"
#include "vitrine/common/suggest.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/inspector.h"
#include "vitrine/netmon/policy_learn.h"
#include "vitrine/netmon/policy_test.h"
#include "vitrine/passthrough/usb_rules.h"
#include "vitrine/policy/explain.h"
#include "vitrine/policy/lint.h"
#include "vitrine/policy/load.h"

namespace vitrine::cli {

namespace {

int run_policy_learn(const std::string& pcap, const std::string& events, const std::string& ip_text,
                     const std::string& mac_text, bool verify_checksums) {
  using namespace vitrine;
  const auto ip = IpAddr::parse(ip_text);
  const auto mac = MacAddr::parse(mac_text);
  if (!ip || !ip->is_v4() || !mac) {
    std::cerr << "vitrine: --guest takes an IPv4 address and --guest-mac a MAC address\n";
    return kExitRefused;
  }
  if (pcap.empty() == events.empty()) {
    std::cerr << "vitrine: learn from one of --pcap or --events\n";
    return kExitRefused;
  }
  try {
    std::vector<netmon::ObservedFlow> flows;
    if (!pcap.empty()) {
      flows = netmon::observe_flows(policy::allow_all_policy(), pcap, verify_checksums);
    } else {
      size_t unreadable = 0;
      flows = netmon::flows_from_events(events, unreadable);
      if (unreadable) std::cerr << "vitrine: " << unreadable << " lines of " << events << " are not JSON: skipped\n";
    }
    std::cout << netmon::draft_policy(flows, *ip, *mac, pcap.empty() ? events : pcap);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitRefused;
  }
}

// Exit codes: 0 every expectation holds, 1 differences (listed), 2 refused input.
int run_policy_test(const std::string& file, const std::string& pcap, const std::string& expect, bool verify_checksums) {
  using namespace vitrine;
  try {
    netmon::NdpiClassifier catalog;
    const policy::Policy p = policy::load_policy_file(file, catalog);
    const auto expected = expect.empty() ? std::vector<netmon::FlowExpectation>{} : netmon::load_expectations(expect);
    const auto flows = netmon::observe_flows(p, pcap, verify_checksums);
    for (const auto& f : flows) {
      const std::string tuple = f.l4 == "ICMP" ? f.src + " -> " + f.dst
                                               : f.src + ":" + std::to_string(f.sport) + " -> " + f.dst + ":" + std::to_string(f.dport);
      std::cout << std::left << std::setw(5) << f.l4 << std::setw(46) << tuple << std::setw(22) << f.protocol
                << std::setw(6) << f.verdict << " " << f.rule << (f.attributes.empty() ? "" : "  " + f.attributes) << "\n";
      for (const auto& m : f.messages) std::cout << "      message " << m << "\n";
    }
    std::cout << flows.size() << " flows\n";
    if (expect.empty()) return 0;
    const auto differences = netmon::compare(expected, flows, expect);
    for (const auto& d : differences) std::cerr << d << "\n";
    std::cout << expected.size() - differences.size() << " of " << expected.size() << " expectations hold\n";
    return differences.empty() ? 0 : kExitFailure;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return kExitRefused;
  } catch (const std::exception& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitRefused;
  }
}

int run_policy_check(const std::string& file) {
  using namespace vitrine::policy;
  vitrine::netmon::NdpiClassifier catalog;
  Policy p;
  std::optional<vitrine::passthrough::UsbRuleSet> usb_rules;
  try {
    p = load_policy_file(file, catalog);
    usb_rules = vitrine::passthrough::UsbRuleSet::compile(p.usb_rules);  // USBGuard's parser
  } catch (const PolicyError& e) {
    std::cerr << e.what() << "\n";
    return kExitRefused;
  }
  {
    for (const auto& w : lint(p)) std::cerr << (w.source.empty() ? file : w.source) << ":" << w.line << ":" << w.column << ": warning: " << w.message << "\n";
    for (const auto& w : usb_rules->warnings())
      std::cerr << w.where.source << ":" << w.where.line << ":" << w.where.column << ": warning: " << w.message << "\n";
    std::cout << file << ": ok: policy '" << p.name << "', " << p.rules.size() << " rules, "
              << p.sets.size() << " sets, default " << to_string(p.default_action) << "\n";
    std::cout << "virtual patches:";
    for (size_t i = 0; i < static_cast<size_t>(VirtualPatch::kCount); ++i) {
      const auto patch = static_cast<VirtualPatch>(i);
      std::cout << (i == 0 ? " " : "; ") << to_string(patch) << " " << to_string(p.patch(patch))
                << (p.patch(patch) == PatchMode::Off || vitrine::netmon::virtual_patch_enforced(patch)
                        ? ""
                        : " (no inspector in this build enforces it yet)");
    }
    std::cout << "\n";
    std::cout << "usb: " << usb_rules->size() << " rules, first match decides; no match: block\n";
    return 0;
  }
}

int run_policy_explain(const std::string& file, const std::string& flow_text, const std::string& protocol_name,
                       const std::vector<std::string>& attr_texts) {
  using namespace vitrine::policy;
  vitrine::netmon::NdpiClassifier catalog;
  Policy p;
  try {
    p = load_policy_file(file, catalog);
  } catch (const PolicyError& e) {
    std::cerr << e.what() << "\n";
    return kExitRefused;
  }
  std::string error;
  const auto spec = parse_flow_spec(flow_text, error);
  const auto facts = spec ? facts_for(p, *spec, error) : std::nullopt;
  if (!facts) {
    std::cerr << "vitrine: " << error << "\n";
    return kExitRefused;
  }
  FlowFacts f = *facts;
  if (!protocol_name.empty()) {
    const auto id = catalog.protocol_id(protocol_name);
    if (!id) {
      std::cerr << "vitrine: '" << protocol_name << "' is not a protocol the classifier knows\n";
      return kExitRefused;
    }
    f.l7 = L7Facts{0, *id};
  }
  // What the classifier or an inspector would report of the flow's messages.
  L7Attributes attributes;
  for (const auto& text : attr_texts) {
    const auto eq = text.find('=');
    const auto& known = catalog.attributes();
    const auto attr = eq == std::string::npos ? known.end()
                                              : std::find_if(known.begin(), known.end(), [&](Attr a) { return text.substr(0, eq) == a->name; });
    if (attr == known.end()) {
      std::vector<std::string> names;
      for (const Attr a : known) names.emplace_back(a->name);
      const auto near = vitrine::closest_name(text.substr(0, eq), names);
      std::cerr << "vitrine: --attr takes NAME=VALUE with NAME one of dns.name, tls.sni, http.host, ...; got '"
                << text << "'" << (near ? " (did you mean '" + *near + "'?)" : "") << "\n";
      return kExitRefused;
    }
    if (!f.l7) {
      std::cerr << "vitrine: --attr describes what the classifier read: give --protocol too\n";
      return kExitRefused;
    }
    attributes.set(*attr, text.substr(eq + 1));
    f.l7->attributes = &attributes;
  }
  std::cout << flow_text << ": " << to_string(f.direction) << ", peer " << f.peer.str() << ", port "
            << f.service_port << (protocol_name.empty() ? ", protocol not known yet" : ", protocol " + protocol_name)
            << "\n";
  for (const auto& e : explain(p, f)) {
    if (e.rule == "verdict") std::cout << "  => " << e.why << "\n";
    else std::cout << "  " << std::left << std::setw(28) << e.rule << " " << e.why << "\n";
  }
  return 0;
}

struct PolicyOptions {
  std::string file, flow, protocol, pcap, expect, events, guest_ip, guest_mac;
  std::vector<std::string> attrs;
  std::string checksums = "verify";
};

// A capture taken on the sending host itself, where the NIC fills in checksums, holds wrong ones
// for what that host sent: netmon (and so replay) would drop them.
void add_checksums_option(CLI::App* cmd, PolicyOptions& o) {
  cmd->add_option("--checksums", o.checksums,
                  "verify: drop frames with wrong checksums, as netmon does; ignore: the capture was taken "
                  "where checksums were left to the NIC")
      ->check(CLI::IsMember({"verify", "ignore"}))
      ->capture_default_str();
}

}  // namespace

CLI::App& add_policy_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<PolicyOptions>();
  auto* policy = app.add_subcommand("policy", "Policies: validate, explain a flow's verdict, test on a capture, learn");
  policy->require_subcommand(1);
  auto* check = policy->add_subcommand("check", "Validate a policy (exit 2 on errors; warnings on stderr)");
  check->add_option("file", o->file, "policy.yaml")->required();
  check->callback([&action, o] { action = [o] { return run_policy_check(o->file); }; });

  auto* explain = policy->add_subcommand("explain", "Which rule decides a flow, and why each earlier one does not");
  explain->add_option("file", o->file, "policy.yaml")->required();
  explain->add_option("--flow", o->flow, "\"tcp 10.77.0.2:1025 -> 10.77.0.1:2575\"")->required();
  explain->add_option("--protocol", o->protocol, "The protocol the classifier names (nDPI's name)");
  explain->add_option("--attr", o->attrs, "What the flow's messages say, NAME=VALUE (dns.name, tls.sni, http.path, ...)");
  explain->callback([&action, o] { action = [o] { return run_policy_explain(o->file, o->flow, o->protocol, o->attrs); }; });

  auto* test = policy->add_subcommand("test", "The verdict of every flow of a capture; differences from an expectation fail");
  test->add_option("file", o->file, "policy.yaml")->required();
  test->add_option("--pcap", o->pcap, "A capture (pcap or pcapng)")->required();
  test->add_option("--expect", o->expect, "Expected verdicts (flows: [{flow, verdict, rule, protocol}])");
  add_checksums_option(test, *o);
  test->callback([&action, o] {
    action = [o] { return run_policy_test(o->file, o->pcap, o->expect, o->checksums == "verify"); };
  });

  auto* learn = policy->add_subcommand("learn", "A draft allowlist from a capture or from netmon's events, for review");
  auto* learn_pcap = learn->add_option("--pcap", o->pcap, "A capture of the cabinet's traffic");
  learn->add_option("--events", o->events, "netmon's events: what the policy denied")->excludes(learn_pcap);
  learn->add_option("--guest", o->guest_ip, "The cabinet's IPv4 address")->required();
  learn->add_option("--guest-mac", o->guest_mac, "The cabinet's MAC address")->required();
  add_checksums_option(learn, *o);
  learn->callback([&action, o] {
    action = [o] { return run_policy_learn(o->pcap, o->events, o->guest_ip, o->guest_mac, o->checksums == "verify"); };
  });
  return *policy;
}

}  // namespace vitrine::cli
