#include "vitrine/netmon/policy_reload.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "vitrine/common/clock.h"
#include "vitrine/common/sha256.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/policy/load.h"

namespace vitrine::netmon {

PolicyReloader::Loaded PolicyReloader::load(const std::string& text_or_path, bool is_text, const std::string& name) {
  Loaded out;
  try {
    const std::string text = is_text ? text_or_path : YamlReader::read_file(text_or_path, "policy");
    // A classifier of its own: the data path's keeps classifying meanwhile. nDPI numbers
    // its protocols the same way in every instance of the same library.
    const NdpiClassifier catalog;
    auto policy = std::make_shared<const policy::Policy>(policy::load_policy_text(text, name, catalog));
    if (!policy->guest) throw policy::PolicyError(name, 0, 0, "the policy has no guest identity");
    out.sha256 = sha256_hex(text);  // of the bytes that were validated, not of the file now
    out.policy = std::move(policy);
  } catch (const ConfigError& e) {
    out.error = e.what();
    out.line = e.line();
    out.column = e.column();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

PolicyReloader::PolicyReloader(std::string path, Engine& engine, EventSink& events, NetmonMetrics& metrics)
    : path_(std::move(path)), engine_(engine), events_(events), metrics_(metrics) {}

PolicyReloader::~PolicyReloader() {
  if (pending_.valid()) pending_.wait();
}

void PolicyReloader::started_with(const policy::Policy& policy, const std::string& sha256) {
  metrics_.policy_loaded(policy.name, sha256, static_cast<double>(wall_clock_us()) / 1e6);
  metrics_.rules_in_force(policy);
  const std::lock_guard lock(mutex_);
  in_force_ = {policy.name, path_, sha256};
}

std::future<ReloadOutcome> PolicyReloader::request(std::string text, std::string source) {
  Source s{std::move(text), std::move(source), std::promise<ReloadOutcome>()};
  auto answer = s.answer->get_future();
  const std::lock_guard lock(mutex_);
  if (waiting_ && waiting_->answer) {
    ReloadOutcome superseded;
    superseded.error = "superseded by a newer reload request before it was loaded";
    waiting_->answer->set_value(std::move(superseded));
  }
  waiting_ = std::move(s);
  return answer;
}

PolicyInForce PolicyReloader::in_force() const {
  const std::lock_guard lock(mutex_);
  return in_force_;
}

void PolicyReloader::start(Source source) {
  spdlog::info("reloading the policy from {}", source.name);
  const bool is_text = source.text.has_value();
  // The text goes to the loader; what stays is whom to answer.
  std::string arg = is_text ? std::move(*source.text) : path_;
  source.text.reset();
  pending_ = std::async(std::launch::async, [arg = std::move(arg), is_text, name = source.name] {
    return load(arg, is_text, name);
  });
  running_ = std::move(source);
}

void PolicyReloader::poll(bool sighup) {
  if (pending_.valid() && pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    Source done = std::move(*running_);
    running_.reset();
    const ReloadOutcome outcome = apply(pending_.get(), done.name);
    if (done.answer) done.answer->set_value(outcome);
  }
  if (sighup) sighup_again_ = true;  // the file may have changed since a running load began
  if (pending_.valid()) return;
  std::optional<Source> next;
  {
    const std::lock_guard lock(mutex_);
    next.swap(waiting_);
  }
  if (next) {
    start(std::move(*next));
  } else if (sighup_again_) {
    sighup_again_ = false;
    start(Source{std::nullopt, path_, std::nullopt});
  }
}

void PolicyReloader::wait() {
  for (;;) {
    {
      const std::lock_guard lock(mutex_);
      if (!pending_.valid() && !waiting_ && !sighup_again_) return;
    }
    if (pending_.valid()) pending_.wait();
    poll(false);
  }
}

ReloadOutcome PolicyReloader::apply(Loaded loaded, const std::string& source) {
  Event e;
  e.time_us = wall_clock_us();
  ReloadOutcome outcome;
  if (!loaded.policy) {
    e.kind = Event::Kind::PolicyRefused;
    e.reason = loaded.error;
    e.policy_name = engine_.policy().name;
    metrics_.policy_reload(false, 0);
    spdlog::error("policy reload refused, '{}' stays in force: {}", engine_.policy().name, loaded.error);
    outcome.error = loaded.error;
    outcome.line = loaded.line;
    outcome.column = loaded.column;
  } else {
    const auto result = engine_.replace_policy(loaded.policy, engine_.now_us());  // the engine's clock
    e.kind = Event::Kind::PolicyReloaded;
    e.policy_name = loaded.policy->name;
    e.policy_sha256 = loaded.sha256;
    e.flows_rejudged = result.rejudged;
    e.flows_cut = result.cut;
    metrics_.policy_reload(true, result.cut);
    metrics_.policy_loaded(loaded.policy->name, loaded.sha256, static_cast<double>(e.time_us) / 1e6);
    metrics_.rules_in_force(*loaded.policy);
    spdlog::info("policy '{}' ({}) in force: {} flows judged again, {} cut", loaded.policy->name,
                 loaded.sha256.substr(0, 12), result.rejudged, result.cut);
    outcome = {true, loaded.policy->name, loaded.sha256, result.rejudged, result.cut, "", 0, 0};
    const std::lock_guard lock(mutex_);
    in_force_ = {loaded.policy->name, source, loaded.sha256};
  }
  // Not rate-limited with flow events: there is one per reload, and each must be on record.
  if (!events_.emit(e)) metrics_.event_write_error();
  return outcome;
}

}  // namespace vitrine::netmon
