// `vitrine status`, `events`, `devices`, `stop`, `start`, `snapshot` and `policy reload`: one
// request each to a running hostd over its control socket, and the answer printed.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "vitrine/common/control_socket.h"

namespace vitrine::cli {

namespace {

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

struct ControlOptions {
  std::string socket_path;
  bool as_json = false;
  bool stop_guest = false;
  uint64_t last = 50;
  std::string snapshot_action, snapshot_name;
};

// Prints an answer as the command that asked for it shows it.
void print_answer(const std::string& command, const ControlOptions& o, nlohmann::json answer) {
  if (command == "status") {
    if (o.as_json) std::cout << answer.dump(2) << "\n";
    else print_status(answer);
  } else if (command == "devices") {
    if (o.as_json) std::cout << answer["devices"].dump(2) << "\n";
    else print_devices(answer["devices"]);
  } else if (command == "events") {
    for (const auto& e : answer["events"]) {
      if (o.as_json) std::cout << e.dump() << "\n";
      else print_event(e);
    }
  } else if (command == "snapshot" && o.snapshot_action == "list") {
    for (const auto& s : answer["snapshots"]) std::cout << s.value("name", "") << "\t" << s.value("date", "") << "\n";
  } else {
    answer.erase("ok");
    std::cout << answer.dump() << "\n";
  }
}

int ask_hostd(const nlohmann::json& request, const ControlOptions& o, bool query) {
  nlohmann::json answer;
  try {
    answer = control_request(find_socket(o.socket_path), request, query ? kQueryTimeout : kActionTimeout);
  } catch (const std::exception& e) {
    std::cerr << "vitrine: " << e.what() << " (is vitrine-hostd running?)\n";
    return kExitFailure;
  }
  if (!answer.value("ok", false)) {
    std::cerr << "vitrine: " << answer.value("error", "refused") << "\n";
    return kExitRefused;
  }
  print_answer(request["command"].get<std::string>(), o, std::move(answer));
  return 0;
}

}  // namespace

void add_control_commands(CLI::App& app, CLI::App& policy, Action& action) {
  auto o = std::make_shared<ControlOptions>();
  const auto asks = [&action, o](CLI::App* cmd, std::function<nlohmann::json()> request, bool query) {
    cmd->add_option("--socket", o->socket_path, "hostd's control socket");
    cmd->callback([&action, o, request, query] { action = [o, request, query] { return ask_hostd(request(), *o, query); }; });
  };
  auto* status = app.add_subcommand("status", "The guest, its supervision, netmon, policy and counters");
  status->add_flag("--json", o->as_json, "Print hostd's answer as JSON");
  asks(status, [] { return nlohmann::json{{"command", "status"}}; }, true);
  auto* events = app.add_subcommand("events", "hostd's and netmon's latest events, oldest first");
  events->add_option("--last", o->last, "How many")->capture_default_str();
  events->add_flag("--json", o->as_json, "One JSON object per line");
  asks(events, [o] { return nlohmann::json{{"command", "events"}, {"last", o->last}}; }, true);
  auto* devices = app.add_subcommand("devices", "USB devices present: the decision, the rule that made it, in the guest or not");
  devices->add_flag("--json", o->as_json, "Print hostd's answer as JSON");
  asks(devices, [] { return nlohmann::json{{"command", "devices"}}; }, true);
  asks(app.add_subcommand("stop", "Shut the guest down (ACPI, then destroy) and keep it down"),
       [] { return nlohmann::json{{"command", "stop"}}; }, false);
  asks(app.add_subcommand("start", "Start the guest (also after a crash loop)"),
       [] { return nlohmann::json{{"command", "start"}}; }, false);
  asks(policy.add_subcommand("reload", "hostd reads the policy once: its USB rules and netmon's network rules"),
       [] { return nlohmann::json{{"command", "reload"}}; }, false);

  auto* snapshot = app.add_subcommand("snapshot", "Snapshots of the running cabinet's overlay");
  snapshot->require_subcommand(1);
  snapshot->add_option("--socket", o->socket_path, "hostd's control socket");
  for (const char* name : {"create", "revert", "delete", "list"}) {
    auto* cmd = snapshot->add_subcommand(name, std::string(name) + " a snapshot");
    if (std::string(name) != "list") {
      cmd->add_option("name", o->snapshot_name, "Snapshot name")->required();
      cmd->add_flag("--stop-guest", o->stop_guest, "Stop the guest for the operation and start it again");
    }
    cmd->fallthrough();  // --socket may come before or after the action
    const std::string verb = name;
    asks(cmd, [o, verb] {
      o->snapshot_action = verb;
      return nlohmann::json{{"command", "snapshot"}, {"action", verb}, {"name", o->snapshot_name}, {"stopGuest", o->stop_guest}};
    }, false);
  }
}

}  // namespace vitrine::cli
