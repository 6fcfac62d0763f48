#include "vitrine/netmon/events.h"

#include <ctime>

namespace vitrine::netmon {

const char* to_string(Event::Kind k) {
  switch (k) {
    case Event::Kind::FlowDenied: return "flow_denied";
    case Event::Kind::FlowAlert: return "flow_alert";
    case Event::Kind::Layer2Violation: return "layer2_violation";
    case Event::Kind::LimitReached: return "limit_reached";
  }
  return "?";
}

std::string format_time(uint64_t time_us) {
  const std::time_t secs = static_cast<std::time_t>(time_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06uZ", static_cast<unsigned>(time_us % 1000000));
  return buf;
}

JsonEventSink::JsonEventSink(const std::string& path) : writer_(path) {}

bool JsonEventSink::emit(const Event& e) {
  nlohmann::json j = {{"time", format_time(e.time_us)}, {"event", to_string(e.kind)}};
  if (!e.l4.empty()) {
    j["l4"] = e.l4;
    j["src"] = e.src.str();
    j["sport"] = e.sport;
    j["dst"] = e.dst.str();
    j["dport"] = e.dport;
  }
  if (!e.direction.empty()) j["direction"] = e.direction;
  if (!e.protocol.empty()) j["protocol"] = e.protocol;
  if (!e.rule.empty()) j["rule"] = e.rule;
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (!e.limit.empty()) {
    j["limit"] = e.limit;
    j["value"] = e.value;
    j["limit_value"] = e.limit_value;
  }
  return writer_.write(j);
}

}  // namespace vitrine::netmon
