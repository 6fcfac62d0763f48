// The control socket's commands, one handler each (Supervisor::kCommands). A handler answers
// through the reply at once, or keeps it for a step that runs on the loop (a graceful stop, a
// snapshot of a running guest, a reload) and answers when that step ends.
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <string>

#include "vitrine/common/control_socket.h"
#include "vitrine/hostd/guest_domain.h"
#include "vitrine/hostd/libvirt_event_loop.h"
#include "vitrine/hostd/netmon_process.h"
#include "vitrine/hostd/supervisor.h"
#include "pending_reload.h"
#include "vitrine/images/image_store.h"
#include "vitrine/passthrough/usb_passthrough.h"

namespace vitrine::hostd {

using nlohmann::json;

namespace {

// How often a reload in progress looks for netmon's answer (it comes from another thread).
constexpr std::chrono::milliseconds kReloadPollInterval{50};

// std::function needs what it holds to be copyable: a reply kept for later is shared.
std::shared_ptr<ControlReply> keep(ControlReply& reply) { return std::make_shared<ControlReply>(std::move(reply)); }

}  // namespace

const std::vector<Supervisor::CommandEntry> Supervisor::kCommands = {
    {"status", &Supervisor::command_status},     {"events", &Supervisor::command_events},
    {"stop", &Supervisor::command_stop},         {"start", &Supervisor::command_start},
    {"snapshot", &Supervisor::command_snapshot}, {"reload", &Supervisor::command_reload},
    {"devices", &Supervisor::command_devices},
};

void Supervisor::handle(const json& request, ControlReply reply) {
  const std::string command = request["command"].get<std::string>();
  std::string names;
  for (const auto& entry : kCommands) {
    if (command == entry.name) {
      try {
        (this->*entry.run)(request, reply);
      } catch (const std::exception& e) {
        reply.send({{"ok", false}, {"error", e.what()}});  // nothing, if the reply was sent or kept
      }
      return;
    }
    names += (names.empty() ? "" : ", ") + std::string(entry.name);
  }
  reply.send({{"ok", false}, {"error", "unknown command " + command + " (" + names + ")"}});
}

void Supervisor::command_status(const json&, ControlReply& reply) {
  refresh_stats();
  std::string current_policy;
  try {
    current_policy = PolicyBytes::read(cabinet_.policy).sha256;
  } catch (const std::exception&) {
  }
  json netmon = {{"state", stats_.netmon_up ? "running" : "down (the guest is cut off)"},
                 {"pid", netmon_pid_},
                 {"restarts", netmon_restarts_},
                 {"policy", cabinet_.policy},
                 {"policy_sha256", policy_.sha256},
                 {"policy_file_changed_since_start", !current_policy.empty() && current_policy != policy_.sha256},
                 {"metrics", cabinet_.netmon_metrics}};
  if (stats_.netmon_up) netmon["counters"] = netmon_counters();
  reply.send({{"ok", true}, {"guest", guest_->describe(stats_)}, {"netmon", netmon}, {"metrics", cabinet_.metrics}});
}

void Supervisor::command_events(const json& request, ControlReply& reply) {
  const auto n = request.value("last", static_cast<uint64_t>(50));
  reply.send({{"ok", true},
              {"events", recent_events({{"hostd", events_path(".hostd-events.jsonl")}, {"netmon", events_path(".events.jsonl")}},
                                       static_cast<size_t>(n))}});
}

void Supervisor::command_stop(const json&, ControlReply& reply) {
  guest_->operator_stop([answer = keep(reply)](const std::string& how) {
    answer->send({{"ok", true}, {"guest", "shut off"}, {"how", how}});
  });
}

void Supervisor::command_start(const json&, ControlReply& reply) {
  if (guest_->stopping())
    return reply.send({{"ok", false}, {"error", "the guest is being stopped: start it once it is down"}});
  const bool was_crash_loop = guest_->operator_clear();
  check_netmon();
  if (!netmon_alive()) return reply.send({{"ok", false}, {"error", "netmon is not running: see " + path(".netmon.log")}});
  if (guest_->active()) return reply.send({{"ok", true}, {"guest", "already running"}});
  guest_->start("operator");
  reply.send({{"ok", true}, {"guest", "started"}, {"cleared_crash_loop", was_crash_loop}});
}

// A snapshot is of the overlay QEMU writes: it is taken with the guest stopped, and stopping a
// cabinet is the operator's decision, said explicitly.
void Supervisor::command_snapshot(const json& request, ControlReply& reply) {
  const std::string action = request.value("action", "");
  if (action == "list") {
    json list = json::array();
    for (const auto& snap : images::ImageStore(cabinet_.image_store).snapshot_list())
      list.push_back({{"name", snap.name}, {"date", snap.date}});
    return reply.send({{"ok", true}, {"snapshots", list}});
  }
  if (action != "create" && action != "revert" && action != "delete")
    return reply.send({{"ok", false}, {"error", "snapshot action must be create, list, revert or delete"}});
  if (guest_->stopping())
    return reply.send({{"ok", false}, {"error", "the guest is being stopped: ask again once it is down"}});
  const std::string name = request.value("name", "");
  if (!guest_->active()) return reply.send(snapshot_now(action, name, false));
  if (!request.value("stopGuest", false)) {
    return reply.send({{"ok", false},
                       {"error", "the guest is running: a snapshot " + action +
                                     " stops it for the moment it takes (ACPI shutdown, then the operation, then it "
                                     "is started again); say so with --stop-guest"}});
  }
  guest_->stop("snapshot " + action, [this, action, name, answer = keep(reply)](const std::string&) {
    answer->send(snapshot_now(action, name, true));
  });
}

json Supervisor::snapshot_now(const std::string& action, const std::string& name, bool restart) {
  json answer = {{"ok", true}, {"action", action}, {"name", name}, {"guest_restarted", restart}};
  try {
    images::ImageStore store(cabinet_.image_store);
    if (action == "create") store.snapshot_create(name);
    else if (action == "revert") store.snapshot_revert(name);
    else store.snapshot_delete(name);
    record("snapshot_" + action, {{"name", name}});
  } catch (const std::exception& e) {
    answer = {{"ok", false}, {"error", e.what()}, {"guest_restarted", restart}};
  }
  if (!restart) return answer;
  try {
    guest_->start("after snapshot " + action);  // not if an operator or hostd stopped it meanwhile
  } catch (const std::exception& e) {
    answer["ok"] = false;
    answer["guest_restarted"] = false;
    answer["error"] = answer.value("error", "snapshot " + action + " done") + "; the guest did not start again: " + e.what();
  }
  return answer;
}

// One read of the file: its USB rules are compiled first (a policy whose USB rules USBGuard
// refuses is refused whole, and netmon is not asked to load it), then netmon is handed the same
// bytes, on a thread that waits for its answer; only once it has them in force do the USB
// rules change (poll_reload).
void Supervisor::command_reload(const json&, ControlReply& reply) {
  if (reload_) return reply.send({{"ok", false}, {"error", "a reload is in progress: ask again once it is answered"}});
  if (!netmon_alive()) return reply.send({{"ok", false}, {"error", "netmon is not running: see " + path(".netmon.log")}});
  auto pending = std::make_unique<PendingReload>();
  try {
    pending->policy = PolicyBytes::read(cabinet_.policy);
    pending->rules = usb_rules_of(pending->policy);
  } catch (const std::exception& e) {
    record("policy_reload_refused", {{"policy", cabinet_.policy}, {"reason", e.what()}});
    return reply.send({{"ok", false}, {"error", std::string("refused, the running policy stays in force: ") + e.what()}});
  }
  const json request = reload_request(pending->policy);
  pending->answer = std::async(std::launch::async, [control = netmon_->control_path(), request] {
    return control_request(control, request, kNetmonReloadTimeout);
  });
  pending->reply = std::move(reply);
  pending->netmon_pid = netmon_->pid();
  pending->timer = loop_->every(kReloadPollInterval, [this] { poll_reload(); });
  if (pending->timer < 0) pending->answer.wait();  // no timer: answered now, the loop held meanwhile
  reload_ = std::move(pending);
  if (reload_->timer < 0) poll_reload();
}

void Supervisor::poll_reload() {
  if (!reload_ || reload_->answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  const std::unique_ptr<PendingReload> r = std::move(reload_);
  if (r->timer >= 0) loop_->cancel(r->timer);
  json answer;
  try {
    answer = judge_reload_answer(r->answer.get(), r->policy);
    // The netmon that took it may have ended meanwhile: the one started since enforces what
    // was in force before, and so must hostd's USB rules and its copy of the bytes.
    if (answer.value("ok", false) && (!netmon_alive() || netmon_->pid() != r->netmon_pid))
      answer = {{"ok", false}, {"error", "netmon was restarted while the reload ran: the policy in force before "
                                         "stays in force; ask again"}};
  } catch (const std::exception& e) {
    answer = {{"ok", false}, {"error", std::string("netmon did not answer the reload: ") + e.what()}};
  }
  if (!answer.value("ok", false)) {
    record("policy_reload_refused", {{"policy", cabinet_.policy}, {"reason", answer.value("error", "")}});
    return r->reply.send(answer);
  }
  policy_ = std::move(r->policy);
  save_policy_in_force(path(".policy-in-force"), policy_);
  usb_->set_rules(std::move(r->rules));
  record("usb_rules_reloaded", {{"policy", cabinet_.policy}, {"rules", usb_->rule_count()}});
  answer["usb_rules"] = usb_->rule_count();
  r->reply.send(answer);
}

void Supervisor::command_devices(const json&, ControlReply& reply) {
  json list = json::array();
  if (usb_)
    for (const auto& d : usb_->devices())
      list.push_back({{"port", d.port}, {"id", d.vendor_id + ":" + d.product_id}, {"serial", d.serial},
                      {"name", d.name}, {"interfaces", d.interfaces}, {"decision", d.decision},
                      {"rule", d.rule}, {"reason", d.reason}, {"attached", d.attached}});
  reply.send({{"ok", true}, {"devices", list}});
}

}  // namespace vitrine::hostd
