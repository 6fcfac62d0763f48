#include "vitrine/netmon/traffic_counters.h"

namespace vitrine::netmon {

namespace {

double value_of(const prometheus::MetricFamily& f, const prometheus::ClientMetric& m) {
  return f.type == prometheus::MetricType::Counter ? m.counter.value
         : f.type == prometheus::MetricType::Gauge ? m.gauge.value
                                                   : 0.0;
}

std::string label(const prometheus::ClientMetric& m, const std::string& name) {
  for (const auto& l : m.label)
    if (l.name == name) return l.value;
  return "";
}

}  // namespace

nlohmann::json traffic_counters(const std::vector<prometheus::MetricFamily>& families) {
  static const std::pair<const char*, const char*> by_verdict[] = {{"vitrine_netmon_packets_total", "packets"},
                                                                   {"vitrine_netmon_bytes_total", "bytes"},
                                                                   {"vitrine_netmon_flows_total", "flows"}};
  nlohmann::json out = {{"packets", nlohmann::json::object()}, {"bytes", nlohmann::json::object()},
                        {"flows", nlohmann::json::object()}, {"events_suppressed", 0.0}};
  for (const auto& f : families) {
    if (f.name == "vitrine_netmon_events_suppressed_total") {
      for (const auto& m : f.metric) out["events_suppressed"] = out["events_suppressed"].get<double>() + value_of(f, m);
      continue;
    }
    for (const auto& [metric, key] : by_verdict) {
      if (f.name != metric) continue;
      for (const auto& m : f.metric) {
        const std::string verdict = label(m, "verdict");
        if (verdict.empty()) continue;
        auto& slot = out[key][verdict];
        slot = (slot.is_number() ? slot.get<double>() : 0.0) + value_of(f, m);
      }
    }
  }
  return out;
}

nlohmann::json traffic_counters(prometheus::Collectable& registry) { return traffic_counters(registry.Collect()); }

}  // namespace vitrine::netmon
