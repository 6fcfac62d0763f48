#include "vitrine/netmon/policy_reload.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "vitrine/common/clock.h"
#include "vitrine/common/sha256.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/policy/load.h"

namespace vitrine::netmon {

PolicyReloader::Loaded PolicyReloader::load(const std::string& path) {
  {
    Loaded out;
    try {
      const std::string text = YamlReader::read_file(path, "policy");
      // A classifier of its own: the data path's keeps classifying meanwhile. nDPI numbers
      // its protocols the same way in every instance of the same library.
      const NdpiClassifier catalog;
      auto policy = std::make_shared<const policy::Policy>(policy::load_policy_text(text, path, catalog));
      if (!policy->guest) throw policy::PolicyError(path, 0, 0, "the policy has no guest identity");
      out.sha256 = sha256_hex(text);  // of the bytes that were validated, not of the file now
      out.policy = std::move(policy);
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    return out;
  }
}

PolicyReloader::PolicyReloader(std::string path, Engine& engine, EventSink& events, NetmonMetrics& metrics)
    : path_(std::move(path)), engine_(engine), events_(events), metrics_(metrics) {}

PolicyReloader::~PolicyReloader() {
  if (pending_.valid()) pending_.wait();
}

void PolicyReloader::started_with(const policy::Policy& policy) {
  std::string sha;
  try {
    sha = sha256_file(path_);
  } catch (const std::exception&) {
  }
  metrics_.policy_loaded(policy.name, sha, static_cast<double>(wall_clock_us()) / 1e6);
  metrics_.rules_in_force(policy);
}

void PolicyReloader::poll(bool requested) {
  if (requested) {
    if (pending_.valid()) {
      again_ = true;  // the file may have changed again since this load began
    } else {
      spdlog::info("reloading the policy from {}", path_);
      pending_ = std::async(std::launch::async, [path = path_] { return load(path); });
    }
  }
  if (pending_.valid() && pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    apply(pending_.get());
    if (again_) {
      again_ = false;
      poll(true);
    }
  }
}

void PolicyReloader::wait() {
  while (pending_.valid()) {
    pending_.wait();
    poll(false);
  }
}

void PolicyReloader::apply(Loaded loaded) {
  Event e;
  e.time_us = wall_clock_us();
  if (!loaded.policy) {
    e.kind = Event::Kind::PolicyRefused;
    e.reason = loaded.error;
    e.policy_name = engine_.policy().name;
    metrics_.policy_reload(false, 0);
    spdlog::error("policy reload refused, '{}' stays in force: {}", engine_.policy().name, loaded.error);
  } else {
    const auto result = engine_.replace_policy(loaded.policy, e.time_us);
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
  }
  // Not rate-limited with flow events: there is one per reload, and each must be on record.
  if (!events_.emit(e)) metrics_.event_write_error();
}

}  // namespace vitrine::netmon
