// vitrine: the operator's command line. It talks to a running hostd through its control
// socket, manages a cabinet's disk images, and checks cabinet descriptions.
//
//   vitrine status [--json]                  guest, supervision, netmon, policy, counters
//   vitrine events [--last N] [--json]       hostd's and netmon's events, in time order
//   vitrine stop | start                     the guest (stop: ACPI, then destroy)
//   vitrine devices [--json]                 USB devices present: decision, rule, in the guest or not
//   vitrine snapshot create|revert|delete NAME [--stop-guest] | list
//   vitrine policy check FILE                validate; warnings for rules never reached
//   vitrine policy reload [--socket PATH]    the running cabinet's netmon reads its policy again
//   vitrine policy test FILE --pcap CAPTURE [--expect EXPECT.yaml] [--checksums ignore]   verdict of every flow
//   vitrine policy learn --pcap CAPTURE [--checksums ignore] | --events FILE --guest IP --guest-mac MAC   a draft allowlist
//   vitrine policy explain FILE --flow "tcp 10.77.0.2:1025 -> 10.77.0.1:445" [--protocol NAME
//       [--attr dns.name=pharmacy.ward3.local ...]]
//       (control commands take [--socket PATH]; default: the one socket in /run/vitrine)
//   vitrine cabinet check FILE
//   vitrine cabinet domain-xml FILE          (the libvirt domain hostd would define)
//   vitrine image import SRC --store DIR [--sha256 HEX]
//   vitrine image verify --store DIR
//   vitrine image reset --store DIR
//   vitrine image snapshot create|revert|delete NAME --store DIR
//   vitrine image snapshot list --store DIR
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "vitrine/common/suggest.h"
#include "vitrine/common/version.h"
#include "vitrine/hostd/cabinet.h"
#include "vitrine/common/control_socket.h"
#include "vitrine/hostd/domain_xml.h"
#include "vitrine/images/image_store.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/inspector.h"
#include "vitrine/netmon/policy_learn.h"
#include "vitrine/netmon/policy_test.h"
#include "vitrine/passthrough/usb_rules.h"
#include "vitrine/policy/explain.h"
#include "vitrine/policy/lint.h"
#include "vitrine/policy/load.h"

namespace {

// Exit codes: 0 done, 1 failure of the machine (a tool missing, a disk error), 2 refused
// (the image or the request is not acceptable; the message says why).
constexpr int kExitFailure = 1;
constexpr int kExitRefused = 2;

// A status answers at once; stop, start and snapshots wait for an ACPI shutdown (a minute
// under TCG, hostd's --shutdown-timeout) and a boot.
constexpr std::chrono::seconds kQueryTimeout{15};
constexpr std::chrono::seconds kActionTimeout{600};

// --socket, or the only hostd socket in /run/vitrine.
std::string find_socket(const std::string& given) {
  if (!given.empty()) return given;
  const std::filesystem::path dir = "/run/vitrine";
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_socket() && e.path().extension() == ".sock") found.push_back(e.path().string());
  if (found.size() == 1) return found[0];
  if (found.empty()) throw std::runtime_error("no hostd socket in /run/vitrine (is vitrine-hostd running?)");
  std::string names;
  for (const auto& f : found) names += " " + f;
  throw std::runtime_error("several cabinets on this host: choose one with --socket:" + names);
}

std::string duration(uint64_t s) {
  std::ostringstream o;
  if (s >= 86400) o << s / 86400 << "d";
  if (s >= 3600) o << (s / 3600) % 24 << "h";
  o << (s / 60) % 60 << "m" << s % 60 << "s";
  return o.str();
}

double number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

void print_status(const nlohmann::json& a) {
  const auto& g = a["guest"];
  const auto& n = a["netmon"];
  std::cout << "cabinet " << g.value("name", "?") << ": " << g.value("state", "?");
  if (g.value("state", "") == "running") std::cout << ", up " << duration(g.value("uptime_seconds", 0ULL));
  std::cout << ", " << g.value("restarts", 0ULL) << " restarts by hostd\n"
            << "  supervision: " << g.value("supervision", "?");
  if (g.contains("restart_in_seconds")) std::cout << " (in " << g["restart_in_seconds"].get<int64_t>() << " s)";
  std::cout << "\n  cpu time:    " << std::fixed << std::setprecision(1) << g.value("cpu_seconds", 0.0) << " s\n"
            << "netmon: " << n.value("state", "?") << " (pid " << n.value("pid", 0) << "), "
            << n.value("restarts", 0ULL) << " restarts\n"
            << "  policy:   " << n.value("policy", "?") << "\n"
            << "  sha256:   " << n.value("policy_sha256", "?")
            << (n.value("policy_file_changed_since_start", false) ? "  (the file has changed since: not enforced yet)" : "")
            << "\n";
  if (n.contains("counters")) {
    const auto& c = n["counters"];
    if (c.value("reachable", false)) {
      std::cout << std::setprecision(0) << "  packets:  " << number(c["packets"], "allow") << " allowed, "
                << number(c["packets"], "deny") << " denied\n"
                << "  flows:    " << number(c["flows"], "allow") << " allowed, " << number(c["flows"], "deny")
                << " denied, " << number(c["flows"], "alert") << " alerted\n";
    } else {
      std::cout << "  counters: unavailable (" << c.value("error", "?") << ")\n";
    }
  }
  std::cout << "metrics: hostd http://" << a.value("metrics", "?") << "/metrics, netmon http://"
            << n.value("metrics", "?") << "/metrics\n";
}

void print_devices(const nlohmann::json& devices) {
  std::cout << std::left << std::setw(8) << "PORT" << std::setw(11) << "ID" << std::setw(8) << "DECISION"
            << std::setw(9) << "IN GUEST" << std::setw(22) << "RULE" << "DEVICE\n";
  for (const auto& d : devices) {
    std::cout << std::setw(8) << d.value("port", "") << std::setw(11) << d.value("id", "") << std::setw(8)
              << d.value("decision", "") << std::setw(9) << (d.value("attached", false) ? "yes" : "no")
              << std::setw(22) << d.value("rule", "") << d.value("name", "");
    if (!d.value("serial", "").empty()) std::cout << " serial " << d.value("serial", "");
    std::cout << " [" << d.value("interfaces", "") << "]";
    if (d.value("decision", "") != "allow") std::cout << " (" << d.value("reason", "") << ")";
    std::cout << "\n";
  }
  std::cout << devices.size() << " devices\n";
}

void print_event(const nlohmann::json& e) {
  std::cout << e.value("time", "") << "  " << std::left << std::setw(6) << e.value("source", "") << " "
            << e.value("event", "");
  for (const auto& [k, v] : e.items()) {
    if (k == "time" || k == "source" || k == "event" || k == "cabinet") continue;
    std::cout << " " << k << "=" << (v.is_string() ? v.get<std::string>() : v.dump());
  }
  std::cout << "\n";
}

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

int run_policy(bool check, const std::string& file, const std::string& flow_text,
               const std::string& protocol_name, const std::vector<std::string>& attr_texts) {
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
  if (check) {
    for (const auto& w : lint(p, &catalog)) std::cerr << (w.source.empty() ? file : w.source) << ":" << w.line << ":" << w.column << ": warning: " << w.message << "\n";
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
    const auto attr = eq == std::string::npos ? std::nullopt : attr_by_name(text.substr(0, eq));
    if (!attr) {
      std::vector<std::string> names;
      for (size_t i = 0; i < kAttrCount; ++i) names.emplace_back(info(static_cast<Attr>(i)).name);
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

}  // namespace

int main(int argc, char** argv) {
  using vitrine::images::ImageError;
  using vitrine::images::ImageStore;

  CLI::App app{"vitrine: keep a cabinet's certified software running on new hardware"};
  app.set_version_flag("--version", std::string("vitrine ") + vitrine::kVersion);
  app.require_subcommand(1);
  auto* image = app.add_subcommand("image", "The cabinet's disk: golden base, overlay, snapshots");
  image->require_subcommand(1);
  std::string store_dir, source, sha256, name;

  auto* import = image->add_subcommand("import", "Import the old PC's disk as the golden base");
  import->add_option("source", source, "raw, VMDK, VHD or qcow2 image")->required();
  import->add_option("--sha256", sha256, "sha256 of the source as recorded when it was imaged");
  auto* verify = image->add_subcommand("verify", "Check the golden base against its manifest");
  auto* reset = image->add_subcommand("reset", "Discard the overlay: back to the golden base");
  auto* snapshot = image->add_subcommand("snapshot", "Snapshots of the overlay (guest stopped)");
  snapshot->require_subcommand(1);
  auto* snap_create = snapshot->add_subcommand("create", "Take a snapshot");
  auto* snap_revert = snapshot->add_subcommand("revert", "Go back to a snapshot");
  auto* snap_delete = snapshot->add_subcommand("delete", "Delete a snapshot");
  auto* snap_list = snapshot->add_subcommand("list", "List snapshots");
  for (auto* cmd : {snap_create, snap_revert, snap_delete})
    cmd->add_option("name", name, "Snapshot name")->required();
  for (auto* cmd : {import, verify, reset, snap_create, snap_revert, snap_delete, snap_list})
    cmd->add_option("--store", store_dir, "The cabinet's image folder")->required();

  auto* cabinet = app.add_subcommand("cabinet", "Cabinet descriptions (cabinet.yaml)");
  cabinet->require_subcommand(1);
  std::string cabinet_file;
  auto* cab_check = cabinet->add_subcommand("check", "Validate a cabinet description");
  auto* cab_xml = cabinet->add_subcommand("domain-xml", "Print the libvirt domain it becomes");
  for (auto* cmd : {cab_check, cab_xml})
    cmd->add_option("file", cabinet_file, "cabinet.yaml")->required();

  auto* policy_cmd = app.add_subcommand("policy", "Policies: validate, and explain a flow's verdict");
  policy_cmd->require_subcommand(1);
  std::string policy_file, flow_text, protocol_name;
  std::vector<std::string> attr_texts;
  auto* pol_check = policy_cmd->add_subcommand("check", "Validate a policy (exit 2 on errors; warnings on stderr)");
  auto* pol_explain = policy_cmd->add_subcommand("explain", "Which rule decides a flow, and why each earlier one does not");
  for (auto* cmd : {pol_check, pol_explain}) cmd->add_option("file", policy_file, "policy.yaml")->required();
  pol_explain->add_option("--flow", flow_text, "\"tcp 10.77.0.2:1025 -> 10.77.0.1:2575\"")->required();
  pol_explain->add_option("--protocol", protocol_name, "The protocol the classifier names (nDPI's name)");
  pol_explain->add_option("--attr", attr_texts, "What the flow's messages say, NAME=VALUE (dns.name, tls.sni, http.path, ...)");
  auto* pol_reload = policy_cmd->add_subcommand("reload", "The running cabinet's netmon reads its policy file again");
  std::string pcap_path, expect_path;
  auto* pol_test = policy_cmd->add_subcommand("test", "The verdict of every flow of a capture; differences from an expectation fail");
  pol_test->add_option("file", policy_file, "policy.yaml")->required();
  pol_test->add_option("--pcap", pcap_path, "A capture (pcap or pcapng)")->required();
  pol_test->add_option("--expect", expect_path, "Expected verdicts (flows: [{flow, verdict, rule, protocol}])");
  // A capture taken on the sending host itself, where the NIC fills in checksums, holds wrong
  // ones for what that host sent: netmon (and so replay) would drop them.
  std::string checksums = "verify";
  const auto checksums_option = [&](CLI::App* cmd) {
    cmd->add_option("--checksums", checksums,
                    "verify: drop frames with wrong checksums, as netmon does; ignore: the capture was taken "
                    "where checksums were left to the NIC")
        ->check(CLI::IsMember({"verify", "ignore"}))
        ->capture_default_str();
  };
  checksums_option(pol_test);
  std::string learn_events, guest_ip, guest_mac;
  auto* pol_learn = policy_cmd->add_subcommand("learn", "A draft allowlist from a capture or from netmon's events, for review");
  auto* learn_pcap = pol_learn->add_option("--pcap", pcap_path, "A capture of the cabinet's traffic");
  pol_learn->add_option("--events", learn_events, "netmon's events: what the policy denied")->excludes(learn_pcap);
  pol_learn->add_option("--guest", guest_ip, "The cabinet's IPv4 address")->required();
  pol_learn->add_option("--guest-mac", guest_mac, "The cabinet's MAC address")->required();
  checksums_option(pol_learn);

  // Control of a running cabinet, through hostd.
  std::string socket_path;
  bool as_json = false, stop_guest = false;
  uint64_t last = 50;
  auto* status = app.add_subcommand("status", "The guest, its supervision, netmon, policy and counters");
  status->add_flag("--json", as_json, "Print hostd's answer as JSON");
  auto* events = app.add_subcommand("events", "hostd's and netmon's latest events, oldest first");
  events->add_option("--last", last, "How many")->capture_default_str();
  events->add_flag("--json", as_json, "One JSON object per line");
  auto* devices = app.add_subcommand("devices", "USB devices present: the decision, the rule that made it, in the guest or not");
  devices->add_flag("--json", as_json, "Print hostd's answer as JSON");
  auto* stop = app.add_subcommand("stop", "Shut the guest down (ACPI, then destroy) and keep it down");
  auto* start = app.add_subcommand("start", "Start the guest (also after a crash loop)");
  auto* live_snapshot = app.add_subcommand("snapshot", "Snapshots of the running cabinet's overlay");
  live_snapshot->require_subcommand(1);
  std::string snap_action;
  for (const char* action : {"create", "revert", "delete", "list"}) {
    auto* cmd = live_snapshot->add_subcommand(action, std::string(action) + " a snapshot");
    if (std::string(action) != "list") {
      cmd->add_option("name", name, "Snapshot name")->required();
      cmd->add_flag("--stop-guest", stop_guest, "Stop the guest for the operation and start it again");
    }
    cmd->callback([&snap_action, action] { snap_action = action; });
    cmd->fallthrough();  // --socket may follow the action
  }
  for (auto* cmd : {status, events, devices, stop, start, live_snapshot, pol_reload})
    cmd->add_option("--socket", socket_path, "hostd's control socket");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitRefused;
  }

  if (*status || *events || *devices || *stop || *start || *live_snapshot || *pol_reload) {
    nlohmann::json request;
    if (*status) request = {{"command", "status"}};
    if (*devices) request = {{"command", "devices"}};
    if (*events) request = {{"command", "events"}, {"last", last}};
    if (*stop) request = {{"command", "stop"}};
    if (*start) request = {{"command", "start"}};
    if (*pol_reload) request = {{"command", "reload"}};
    if (*live_snapshot) request = {{"command", "snapshot"}, {"action", snap_action}, {"name", name}, {"stopGuest", stop_guest}};
    nlohmann::json answer;
    try {
      answer = vitrine::control_request(find_socket(socket_path), request,
                                        *status || *events || *devices ? kQueryTimeout : kActionTimeout);
    } catch (const std::exception& e) {
      std::cerr << "vitrine: " << e.what() << " (is vitrine-hostd running?)\n";
      return kExitFailure;
    }
    if (!answer.value("ok", false)) {
      std::cerr << "vitrine: " << answer.value("error", "refused") << "\n";
      return kExitRefused;
    }
    if (*status) {
      if (as_json) std::cout << answer.dump(2) << "\n";
      else print_status(answer);
    } else if (*devices) {
      if (as_json) std::cout << answer["devices"].dump(2) << "\n";
      else print_devices(answer["devices"]);
    } else if (*events) {
      for (const auto& e : answer["events"]) {
        if (as_json) std::cout << e.dump() << "\n";
        else print_event(e);
      }
    } else if (*live_snapshot && snap_action == "list") {
      for (const auto& s : answer["snapshots"]) std::cout << s.value("name", "") << "\t" << s.value("date", "") << "\n";
    } else {
      answer.erase("ok");
      std::cout << answer.dump() << "\n";
    }
    return 0;
  }

  if (*pol_test) return run_policy_test(policy_file, pcap_path, expect_path, checksums == "verify");
  if (*pol_learn) return run_policy_learn(pcap_path, learn_events, guest_ip, guest_mac, checksums == "verify");
  if (*policy_cmd && !*pol_reload) return run_policy(pol_check->parsed(), policy_file, flow_text, protocol_name, attr_texts);

  if (*cabinet) {
    try {
      const auto c = vitrine::hostd::load_cabinet_file(cabinet_file);
      if (*cab_check)
        std::cout << cabinet_file << ": ok: cabinet '" << c.name << "', NIC " << c.mac.str()
                  << " on tap " << c.tap << " behind netmon to " << c.uplink << "\n";
      else
        std::cout << vitrine::hostd::domain_xml(c, c.image_store + "/overlay.qcow2");
      return 0;
    } catch (const vitrine::hostd::CabinetError& e) {
      std::cerr << e.what() << "\n";
      return kExitRefused;
    }
  }

  try {
    ImageStore store(store_dir);
    if (*import) {
      const auto m = store.import(source, sha256.empty() ? std::nullopt : std::optional(sha256));
      std::cout << "imported " << m.source << " (" << m.source_format << ", " << m.virtual_size
                << " bytes)\n  golden  " << store.golden().string() << "  sha256 "
                << m.golden_sha256 << "\n  overlay " << store.overlay().string() << "\n";
    } else if (*verify) {
      if (!store.verify()) {
        std::cerr << store.golden().string() << ": sha256 differs from the manifest: the golden "
                  << "base was changed\n";
        return kExitRefused;
      }
      std::cout << store.golden().string() << ": sha256 matches the manifest\n";
    } else if (*reset) {
      store.reset();
      std::cout << "overlay reset: the guest starts from the golden base\n";
    } else if (*snap_create) {
      store.snapshot_create(name);
    } else if (*snap_revert) {
      store.snapshot_revert(name);
    } else if (*snap_delete) {
      store.snapshot_delete(name);
    } else if (*snap_list) {
      for (const auto& s : store.snapshot_list()) std::cout << s.name << "\t" << s.date << "\n";
    }
    return 0;
  } catch (const ImageError& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitRefused;
  } catch (const std::exception& e) {
    std::cerr << "vitrine: " << e.what() << "\n";
    return kExitFailure;
  }
}
