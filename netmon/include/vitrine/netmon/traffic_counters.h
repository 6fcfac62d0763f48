// netmon's traffic counters as `vitrine status` shows them, summed by verdict from netmon's own
// registry (the one place they are kept), for the control socket's `status`.
#pragma once

#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

namespace vitrine::netmon {

// {"packets":{"allow":N,"deny":N},"bytes":{...},"flows":{...},"events_suppressed":N}.
nlohmann::json traffic_counters(prometheus::Collectable& registry);
// The same over families already collected (for tests).
nlohmann::json traffic_counters(const std::vector<prometheus::MetricFamily>& families);

}  // namespace vitrine::netmon
