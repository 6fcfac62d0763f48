// Hot reload of netmon's policy (SIGHUP): the file is loaded and validated in a thread of its
// own, with a classifier of its own, while frames keep flowing; between two rounds of the
// relay the new policy is swapped in and the flows it finds are judged again. A policy that
// does not load is refused with its error and the running one stays in force. Both outcomes
// are events and metrics.
#pragma once

#include <future>
#include <memory>
#include <string>

#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/events.h"
#include "vitrine/netmon/metrics.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

class PolicyReloader {
 public:
  PolicyReloader(std::string path, Engine& engine, EventSink& events, NetmonMetrics& metrics);
  ~PolicyReloader();

  // Records the policy netmon started with (metrics: its name, hash and load time).
  void started_with(const policy::Policy& policy);
  // Between two rounds of the relay: starts a load if `requested` (and none is running), and
  // swaps a finished one in. Never blocks on the load.
  void poll(bool requested);
  // Waits for a running load to finish and applies it (for tests and shutdown).
  void wait();

 private:
  struct Loaded {
    std::shared_ptr<const policy::Policy> policy;  // null when refused
    std::string sha256;
    std::string error;
  };
  static Loaded load(const std::string& path);
  void apply(Loaded loaded);

  std::string path_;
  Engine& engine_;
  EventSink& events_;
  NetmonMetrics& metrics_;
  std::future<Loaded> pending_;
  bool again_ = false;  // asked again while a load was running
};

}  // namespace vitrine::netmon
