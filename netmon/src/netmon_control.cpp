#include "vitrine/netmon/netmon_control.h"

#include <prometheus/registry.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "vitrine/netmon/traffic_counters.h"

namespace vitrine::netmon {

namespace {
// The text travels JSON-escaped (a newline is two bytes, a control byte six): room for that.
constexpr size_t kMaxReloadRequestBytes = 2 * kMaxPolicyBytes + kMaxControlRequestBytes;
}  // namespace

NetmonControl::NetmonControl(const std::string& path, PolicyReloader& reloader,
                             std::shared_ptr<prometheus::Registry> registry)
    : reloader_(reloader), registry_(std::move(registry)),
      server_(path, [this](const nlohmann::json& r) { return handle(r); },
              ControlServer::Limits{kMaxReloadRequestBytes}) {}

NetmonControl::~NetmonControl() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void NetmonControl::start() {
  // The thread must not take the signals meant for the relay's loop (SIGTERM, SIGHUP).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { server_.serve_until(stop_); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

nlohmann::json NetmonControl::policy_json() const {
  const PolicyInForce p = reloader_.in_force();
  return {{"name", p.name}, {"source", p.source}, {"sha256", p.sha256}};
}

nlohmann::json NetmonControl::reload(const nlohmann::json& request) {
  if (!request.contains("policy_text") || !request["policy_text"].is_string())
    return {{"ok", false}, {"error", "reload needs \"policy_text\": the policy's bytes, as a string"}};
  std::string text = request["policy_text"].get<std::string>();
  if (text.size() > kMaxPolicyBytes)
    return {{"ok", false}, {"error", "a policy of " + std::to_string(text.size()) + " bytes: at most " +
                                         std::to_string(kMaxPolicyBytes) + " are read"}};
  std::string source = request.value("source", "control socket");
  auto answer = reloader_.request(std::move(text), std::move(source));
  if (answer.wait_for(kReloadAnswerTimeout) != std::future_status::ready)
    return {{"ok", false}, {"error", "the policy did not load within " + std::to_string(kReloadAnswerTimeout.count()) +
                                         " s; it is put in force, or refused, when it does"}};
  const ReloadOutcome r = answer.get();
  if (!r.ok) return {{"ok", false}, {"error", r.error}, {"line", r.line}, {"column", r.column}};
  return {{"ok", true}, {"policy", r.policy_name}, {"policy_sha256", r.sha256},
          {"flows_rejudged", r.flows_rejudged}, {"flows_cut", r.flows_cut}};
}

nlohmann::json NetmonControl::handle(const nlohmann::json& request) {
  const std::string command = request["command"].get<std::string>();
  if (command == "ready") return {{"ok", true}, {"ready", true}, {"pid", getpid()}, {"policy", policy_json()}};
  if (command == "status")
    return {{"ok", true}, {"ready", true}, {"pid", getpid()}, {"policy", policy_json()},
            {"counters", traffic_counters(*registry_)}};
  if (command == "reload") return reload(request);
  return {{"ok", false}, {"error", "unknown command " + command + " (ready, status, reload)"}};
}

}  // namespace vitrine::netmon
