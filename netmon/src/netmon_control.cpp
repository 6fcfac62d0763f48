#include "vitrine/netmon/netmon_control.h"

#include <prometheus/registry.h>
#include <poll.h>
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
      server_(path,
              ControlServer::DeferringHandler([this](const nlohmann::json& r, ControlReply reply) {
                handle(r, std::move(reply));
              }),
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
  thread_ = std::thread([this] { serve(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

nlohmann::json NetmonControl::policy_json() const {
  const PolicyInForce p = reloader_.in_force();
  return {{"name", p.name}, {"source", p.source}, {"sha256", p.sha256}};
}

void NetmonControl::serve() {
  while (!stop_.load()) {
    pollfd p{server_.fd(), POLLIN, 0};
    if (poll(&p, 1, ControlServer::kStopPollMs) > 0) server_.serve_one();
    answer_reloads();
  }
}

void NetmonControl::reload(const nlohmann::json& request, ControlReply reply) {
  if (!request.contains("policy_text") || !request["policy_text"].is_string())
    return reply.send({{"ok", false}, {"error", "reload needs \"policy_text\": the policy's bytes, as a string"}});
  std::string text = request["policy_text"].get<std::string>();
  if (text.size() > kMaxPolicyBytes)
    return reply.send({{"ok", false}, {"error", "a policy of " + std::to_string(text.size()) + " bytes: at most " +
                                                    std::to_string(kMaxPolicyBytes) + " are read"}});
  if (pending_.size() >= kMaxPendingReloads)
    return reply.send({{"ok", false}, {"error", std::to_string(kMaxPendingReloads) +
                                                    " reloads wait for their policy already: ask again later"}});
  std::string source = request.value("source", "control socket");
  pending_.push_back({reloader_.request(std::move(text), std::move(source)),
                      std::chrono::steady_clock::now() + kReloadAnswerTimeout, std::move(reply)});
  answer_reloads();  // a small policy loads at once: answered without waiting for the next round
}

void NetmonControl::answer_reloads() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->outcome.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      const ReloadOutcome r = it->outcome.get();
      if (!r.ok) it->reply.send({{"ok", false}, {"error", r.error}, {"line", r.line}, {"column", r.column}});
      else
        it->reply.send({{"ok", true}, {"policy", r.policy_name}, {"policy_sha256", r.sha256},
                        {"flows_rejudged", r.flows_rejudged}, {"flows_cut", r.flows_cut}});
    } else if (std::chrono::steady_clock::now() >= it->deadline) {
      it->reply.send({{"ok", false}, {"error", "the policy did not load within " + std::to_string(kReloadAnswerTimeout.count()) +
                                                   " s; it is put in force, or refused, when it does"}});
    } else {
      ++it;
      continue;
    }
    it = pending_.erase(it);
  }
}

void NetmonControl::handle(const nlohmann::json& request, ControlReply reply) {
  try {
    answer(request, reply);
  } catch (const std::exception& e) {
    reply.send({{"ok", false}, {"error", e.what()}});  // nothing, if it was sent or kept
  }
}

void NetmonControl::answer(const nlohmann::json& request, ControlReply& reply) {
  const std::string command = request["command"].get<std::string>();
  if (command == "ready")
    return reply.send({{"ok", true}, {"ready", true}, {"pid", getpid()}, {"policy", policy_json()}});
  if (command == "status")
    return reply.send({{"ok", true}, {"ready", true}, {"pid", getpid()}, {"policy", policy_json()},
                       {"counters", traffic_counters(*registry_)}});
  if (command == "reload") return reload(request, std::move(reply));
  reply.send({{"ok", false}, {"error", "unknown command " + command + " (ready, status, reload)"}});
}

}  // namespace vitrine::netmon
