// vitrine-netmon: the inline inspection engine between a guest's NIC and the uplink.
//
//   vitrine-netmon --guest IF --uplink IF --policy FILE --metrics ADDR:PORT --events FILE
//                  [--control SOCKET] [--lock FILE] [--user NAME] [--syslog URL]
//   vitrine-netmon replay --pcap FILE [--policy FILE | --inspectors patches|all|none] --flows OUT.jsonl [--events FILE]
//   vitrine-netmon check --policy FILE
#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>

#include <unistd.h>

#include "vitrine/common/log.h"
#include "vitrine/common/process_lock.h"
#include "vitrine/common/sha256.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/common/version.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/events.h"
#include "vitrine/netmon/metrics.h"
#include "vitrine/netmon/laned_port.h"
#include "vitrine/netmon/netmon_control.h"
#include "vitrine/netmon/policy_reload.h"
#include "vitrine/netmon/relay.h"
#include "vitrine/netmon/replay.h"
#include "vitrine/netmon/sandbox.h"
#include "vitrine/policy/lint.h"
#include "vitrine/policy/load.h"

namespace {

using namespace vitrine;
using namespace vitrine::netmon;

// Exit codes: 0 clean stop, 1 runtime failure, 2 refused input (policy, arguments).
constexpr int kExitFailure = 1;
constexpr int kExitRefused = 2;

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_signal(int) { g_stop.store(true); }
void on_reload(int) { g_reload.store(true); }

void install_signal_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() returns so the loop sees the flag
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction hup{};
  hup.sa_handler = on_reload;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);  // reload the policy
}

std::shared_ptr<const policy::Policy> load_policy(const std::string& path,
                                                  const NdpiClassifier& catalog) {
  return std::make_shared<const policy::Policy>(policy::load_policy_file(path, catalog));
}

// Where events go besides their file: a SIEM's syslog receiver, when --syslog names one.
struct SyslogOptions {
  std::string url;
  std::string facility = "local0";
  std::string cabinet;

  // Null without --syslog. main() has checked the target and facility.
  std::unique_ptr<SyslogForwarder> make() const {
    if (url.empty()) return nullptr;
    return std::make_unique<SyslogForwarder>(SyslogTarget::parse(url, facility), "vitrine-netmon", cabinet);
  }
};

// Where the relay runs and who it runs as.
struct RelayOptions {
  std::string guest_if, uplink_if, policy_path, metrics_addr = "127.0.0.1:9464", events_path, packet_io = "ring";
  std::string control_path;  // empty: no control socket
  std::string lock_path;     // empty: no lock
  SandboxOptions sandbox;
};

// Opens what needs privilege (the packet sockets, the events file, the control socket), then
// gives every privilege up (sandbox.h) before any thread starts, then relays.
int run_relay(const RelayOptions& o, const SyslogOptions& syslog_options) {
  // Before the rings: a second relay on the same interfaces would forward every frame twice.
  std::optional<ProcessLock> lock;
  try {
    if (!o.lock_path.empty()) lock.emplace(o.lock_path);
  } catch (const std::runtime_error& e) {
    spdlog::critical("refusing to start: another netmon relays for this cabinet: {}", e.what());
    return kExitRefused;
  }
  NdpiClassifier classifier;
  std::shared_ptr<const policy::Policy> policy;
  std::string policy_sha256;
  try {
    const std::string text = YamlReader::read_file(o.policy_path, "policy");
    policy_sha256 = sha256_hex(text);
    policy = std::make_shared<const policy::Policy>(policy::load_policy_text(text, o.policy_path, classifier));
  } catch (const policy::PolicyError& e) {
    spdlog::critical("refusing to start: {}", e.what());
    return kExitRefused;
  }
  if (!policy->guest) {
    spdlog::critical("refusing to start: {}: the policy has no guest identity", o.policy_path);
    return kExitRefused;
  }
  JsonEventSink events(o.events_path, JsonLinesWriter::Mode::Append);
  auto registry = std::make_shared<prometheus::Registry>();
  NetmonMetrics metrics(registry);

  const auto open_port = o.packet_io == "pcap" ? open_pcap_port : open_ring_port;
  // Three lanes each (priority_lanes.h): flows, services, bulk.
  const auto laned = [&](const std::string& interface) {
    std::vector<std::unique_ptr<PacketPort>> lanes;
    lanes.push_back(open_port(interface, kPriorityLaneSize));
    lanes.push_back(open_port(interface, kPriorityLaneSize));
    lanes.push_back(open_port(interface, PortSize{}));
    return LanedPort(std::move(lanes));
  };
  LanedPort guest = laned(o.guest_if);
  LanedPort uplink = laned(o.uplink_if);
  Relay relay(guest, uplink, metrics);
  Engine engine(policy, classifier, relay, events, metrics, LinkType::Ethernet);
  PolicyReloader reloader(o.policy_path, engine, events, metrics);
  reloader.started_with(*policy, policy_sha256);
  std::optional<NetmonControl> control;
  if (!o.control_path.empty()) control.emplace(o.control_path, reloader, registry);
  install_signal_handlers();
  try {
    enter_sandbox(o.sandbox);
  } catch (const std::runtime_error& e) {
    spdlog::critical("refusing to run: {}", e.what());
    return kExitRefused;
  }

  std::shared_ptr<SyslogForwarder> syslog = syslog_options.make();
  events.forward_to(syslog.get());
  prometheus::Exposer exposer(o.metrics_addr);
  exposer.RegisterCollectable(registry);
  if (syslog) exposer.RegisterCollectable(syslog);
  if (control) control->start();  // ready: rings open, the policy loaded, signals handled
  spdlog::info("relaying {} <-> {} ({}) under policy '{}' ({} rules, default {}); metrics on "
               "http://{}/metrics; events to {}; running as uid {}",
               o.guest_if, o.uplink_if, o.packet_io, policy->name, policy->rules.size(),
               policy::to_string(policy->default_action), o.metrics_addr, o.events_path, getuid());
  relay.run(engine, g_stop, [&] { reloader.poll(g_reload.exchange(false)); });
  control.reset();  // no reload is asked for once the loop is gone
  engine.finish();
  events.forward_to(nullptr);
  spdlog::info("stopped after {} frames", engine.frames());
  return 0;
}

// Without a policy, replay allows everything; `inspectors` says what netmon's own inspectors
// read meanwhile: "patches" (the virtual patches, alerting), "all" (every message of every
// protocol they know), "none".
policy::Policy built_in_replay_policy(const std::string& inspectors) {
  policy::Policy p = policy::allow_all_policy();
  if (inspectors == "all") p.inspect_all = true;
  if (inspectors == "none") p.virtual_patches.fill(policy::PatchMode::Off);
  return p;
}

int run_replay(const std::string& pcap_path, const std::string& policy_path, const ReplayRecords& records,
               const std::string& events_path, const std::string& inspectors, const SyslogOptions& syslog_options,
               EngineOptions options) {
  std::shared_ptr<SyslogForwarder> syslog = syslog_options.make();
  if (syslog && events_path.empty()) {
    spdlog::critical("--syslog forwards events: replay needs --events with it");
    return kExitRefused;
  }
  NdpiClassifier classifier;
  std::shared_ptr<const policy::Policy> policy;
  try {
    policy = policy_path.empty() ? std::make_shared<const policy::Policy>(built_in_replay_policy(inspectors))
                                 : load_policy(policy_path, classifier);
  } catch (const policy::PolicyError& e) {
    spdlog::critical("{}", e.what());
    return kExitRefused;
  }
  std::unique_ptr<EventSink> events;
  if (events_path.empty())
    events = std::make_unique<NullEventSink>();
  else
    events = std::make_unique<JsonEventSink>(events_path, JsonLinesWriter::Mode::Replace, syslog.get());
  NetmonMetrics metrics(std::make_shared<prometheus::Registry>());
  const ReplayResult r =
      replay_capture(pcap_path, policy, classifier, *events, metrics, records, options);
  events.reset();
  syslog.reset();  // sends what is queued (or gives up, saying how much) before the summary
  if (r.checksum_drops > 0)
    spdlog::warn("{} of {} frames carried a wrong checksum and were dropped, as their receiver would drop them; "
                 "if the capture was taken on a host that leaves checksums to its NIC, replay it with --checksums ignore",
                 r.checksum_drops, r.packets);
  // The last line on stderr is the summary that scripts read.
  std::fprintf(stderr, "replay: %llu packets, %llu flows, %.0f packets/s\n",
               static_cast<unsigned long long>(r.packets), static_cast<unsigned long long>(r.flows),
               r.seconds > 0 ? static_cast<double>(r.packets) / r.seconds : 0.0);
  return 0;
}

int run_check(const std::string& policy_path) {
  NdpiClassifier classifier;
  try {
    const auto p = load_policy(policy_path, classifier);
    for (const auto& w : policy::lint(*p))
      std::cerr << (w.source.empty() ? policy_path : w.source) << ":" << w.line << ":" << w.column << ": warning: " << w.message << "\n";
    std::cout << policy_path << ": ok: policy '" << p->name << "', " << p->rules.size()
              << " rules, default " << policy::to_string(p->default_action) << "\n";
    return 0;
  } catch (const policy::PolicyError& e) {
    std::cerr << e.what() << "\n";
    return kExitRefused;
  }
}

struct ReplayOptions {
  std::string pcap, policy, events, inspectors = "patches", checksums = "verify";
  ReplayRecords records;
};

void add_relay_options(CLI::App& app, RelayOptions& o, SyslogOptions& syslog) {
  app.add_option("--guest", o.guest_if, "Interface of the guest's NIC (its tap)");
  app.add_option("--uplink", o.uplink_if, "Interface towards the hospital network");
  app.add_option("--policy", o.policy_path, "Policy file (YAML, apiVersion vitrine/v1)");
  app.add_option("--metrics", o.metrics_addr, "Address:port for Prometheus /metrics")->capture_default_str();
  app.add_option("--events", o.events_path, "File the JSON-lines events are appended to");
  app.add_option("--syslog", syslog.url,
                 "Also forward every event to a syslog receiver as RFC 5424: udp://HOST[:PORT] or tcp://HOST[:PORT]");
  app.add_option("--syslog-facility", syslog.facility, "Facility of forwarded events")->capture_default_str();
  app.add_option("--cabinet", syslog.cabinet, "The cabinet's name, in every forwarded event");
  app.add_option("--lock", o.lock_path, "Held while this netmon relays: another netmon given the same file refuses to start");
  app.add_option("--control", o.control_path, "Serve hostd's requests (ready, status, reload) on this Unix socket");
  app.add_option("--user", o.sandbox.user,
                 std::string("Run as this system user once the packet sockets are open (hostd passes ") + kNetmonUser + ")");
  app.add_option("--packet-io", o.packet_io, "ring: AF_PACKET memory-mapped rings; pcap: libpcap (one system call per frame sent)")
      ->check(CLI::IsMember({"ring", "pcap"}))
      ->capture_default_str();
}

CLI::App* add_replay_command(CLI::App& app, ReplayOptions& o) {
  auto* replay = app.add_subcommand("replay", "Run the data path over a capture file");
  replay->add_option("--pcap", o.pcap, "Capture file (pcap or pcapng)")->required();
  replay->add_option("--policy", o.policy, "Policy file; without it, everything is allowed");
  replay->add_option("--flows", o.records.flows_path, "Write one JSON object per flow here, replacing what the file held ('-': stdout)")
      ->required();
  replay->add_option("--events", o.events, "Write events here, replacing what the file held");
  replay->add_option("--inspectors", o.inspectors,
                     "Without --policy: what netmon's inspectors read (patches: the virtual patches, alerting; "
                     "all: every message they know; none)")
      ->check(CLI::IsMember({"patches", "all", "none"}));
  replay->add_option("--forwarded", o.records.forwarded_pcap,
                     "Write every frame netmon forwarded (and every reset it sent) to this capture");
  replay->add_option("--inspected", o.records.inspected_path,
                     "Write every run of bytes its inspectors read here, as JSON lines (flow, endpoint, offset, hex)");
  replay->add_option("--checksums", o.checksums,
                     "verify: drop what carries a wrong checksum, as the live relay does; ignore: for a capture "
                     "taken on a host that left its checksums to the NIC (offload)")
      ->check(CLI::IsMember({"verify", "ignore"}))
      ->capture_default_str();
  return replay;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vitrine-netmon: inline deep-packet inspection between a guest and its network"};
  app.set_version_flag("--version", std::string("vitrine-netmon ") + kVersion);
  app.require_subcommand(0, 1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")->capture_default_str();
  RelayOptions relay;
  SyslogOptions syslog;
  add_relay_options(app, relay, syslog);
  ReplayOptions replay_options;
  auto* replay = add_replay_command(app, replay_options);
  auto* check = app.add_subcommand("check", "Validate a policy file and exit");
  std::string check_policy;
  check->add_option("--policy", check_policy, "Policy file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitRefused;
  }
  if (!configure_logging(log_level)) {
    std::cerr << "unknown --log-level '" << log_level << "'\n";
    return kExitRefused;
  }
  if (!syslog.url.empty()) {
    try {
      SyslogTarget::parse(syslog.url, syslog.facility);
    } catch (const SyslogTargetError& e) {
      spdlog::critical("refusing to start: {}", e.what());
      return kExitRefused;
    }
  }
  try {
    if (*replay) {
      EngineOptions options;
      options.verify_checksums = replay_options.checksums == "verify";
      return run_replay(replay_options.pcap, replay_options.policy, replay_options.records, replay_options.events,
                        replay_options.inspectors, syslog, options);
    }
    if (*check) return run_check(check_policy);
    if (relay.guest_if.empty() || relay.uplink_if.empty() || relay.policy_path.empty() || relay.events_path.empty()) {
      std::cerr << "relay mode needs --guest, --uplink, --policy and --events\n" << app.help();
      return kExitRefused;
    }
    return run_relay(relay, syslog);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return kExitFailure;
  }
}
