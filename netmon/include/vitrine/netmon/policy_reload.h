// Hot reload of netmon's policy: asked for by SIGHUP (the file at its path is read again) or
// by hostd on the control socket (the policy's bytes, so that hostd's USB rules and netmon's
// network rules come from one read of the file). The text is loaded and validated in a thread
// of its own, with a classifier of its own, while frames keep flowing; between two rounds of
// the relay the new policy is swapped in and the flows it finds are judged again. A policy
// that does not load is refused with its error (file:line:column) and the running one stays
// in force. Both outcomes are events and metrics, and the answer to whoever asked.
#pragma once

#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/events.h"
#include "vitrine/netmon/metrics.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

// What a reload came to, as the control socket answers it.
struct ReloadOutcome {
  bool ok = false;
  std::string policy_name;
  std::string sha256;  // of the bytes that were validated
  uint64_t flows_rejudged = 0;
  uint64_t flows_cut = 0;
  std::string error;  // when refused: "file:line:column: what"
  int line = 0, column = 0;
};

// The policy in force, for `ready` and `status`.
struct PolicyInForce {
  std::string name;
  std::string source;
  std::string sha256;
};

class PolicyReloader {
 public:
  PolicyReloader(std::string path, Engine& engine, EventSink& events, NetmonMetrics& metrics);
  ~PolicyReloader();

  // Records the policy netmon started with (metrics: its name, hash and load time).
  void started_with(const policy::Policy& policy, const std::string& sha256);
  // From any thread: load `text` (named `source` in errors) and put it in force. The future
  // is ready once it is in force or refused. One request waits at a time; a second one asked
  // before the first is taken replaces it, and the first is answered as superseded.
  std::future<ReloadOutcome> request(std::string text, std::string source);
  // From any thread.
  PolicyInForce in_force() const;

  // Between two rounds of the relay (the relay's thread): starts a load if `sighup` or a
  // request waits (and none is running), and swaps a finished one in. Never blocks on a load.
  void poll(bool sighup);
  // Waits for a running load to finish and applies it (for tests and shutdown).
  void wait();

 private:
  struct Source {
    std::optional<std::string> text;  // empty: read the file at path_
    std::string name;
    std::optional<std::promise<ReloadOutcome>> answer;
  };
  struct Loaded {
    std::shared_ptr<const policy::Policy> policy;  // null when refused
    std::string sha256;
    std::string error;
    int line = 0, column = 0;
  };
  static Loaded load(const std::string& text_or_path, bool is_text, const std::string& name);
  void start(Source source);
  ReloadOutcome apply(Loaded loaded, const std::string& source);

  std::string path_;
  Engine& engine_;
  EventSink& events_;
  NetmonMetrics& metrics_;
  std::future<Loaded> pending_;
  std::optional<Source> running_;  // what pending_ loads
  bool sighup_again_ = false;      // asked again while a load was running

  mutable std::mutex mutex_;  // guards what other threads touch: the waiting request, in force
  std::optional<Source> waiting_;
  PolicyInForce in_force_;
};

}  // namespace vitrine::netmon
