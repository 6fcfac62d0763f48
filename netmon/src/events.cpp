#include "vitrine/netmon/events.h"

#include "vitrine/common/clock.h"

namespace vitrine::netmon {

const char* to_string(Event::Kind k) {
  switch (k) {
    case Event::Kind::FlowDenied: return "flow_denied";
    case Event::Kind::FlowAlert: return "flow_alert";
    case Event::Kind::FlowWouldDeny: return "flow_would_deny";
    case Event::Kind::PolicyReloaded: return "policy_reloaded";
    case Event::Kind::PolicyRefused: return "policy_refused";
    case Event::Kind::Layer2Violation: return "layer2_violation";
    case Event::Kind::LimitReached: return "limit_reached";
    case Event::Kind::Malformed: return "malformed";
    case Event::Kind::VirtualPatch: return "virtual_patch";
    case Event::Kind::NormaliserDrop: return "normaliser_drop";
  }
  return "?";
}

JsonEventSink::JsonEventSink(const std::string& path, JsonLinesWriter::Mode mode, SyslogForwarder* forward)
    : writer_(path, mode), forward_(forward) {}

bool JsonEventSink::emit(const Event& e) {
  nlohmann::json j = {{"time", utc_timestamp(e.time_us)}, {"event", to_string(e.kind)}};
  if (!e.l4.empty()) {
    j["l4"] = e.l4;
    j["src"] = e.src.str();
    j["sport"] = e.sport;
    j["dst"] = e.dst.str();
    j["dport"] = e.dport;
  }
  if (!e.direction.empty()) j["direction"] = e.direction;
  if (!e.protocol.empty()) j["protocol"] = e.protocol;
  for (const auto& [name, value] : e.attributes) j["attributes"][name] = value;
  if (!e.patient_ref.empty()) j["patient_ref"] = e.patient_ref;
  if (!e.signature.empty()) j["signature"] = e.signature;
  if (!e.rule.empty()) j["rule"] = e.rule;
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (!e.limit.empty()) {
    j["limit"] = e.limit;
    j["value"] = e.value;
    j["limit_value"] = e.limit_value;
  }
  if (!e.policy_name.empty()) j["policy"] = e.policy_name;
  if (!e.policy_sha256.empty()) j["policy_sha256"] = e.policy_sha256;
  if (e.kind == Event::Kind::PolicyReloaded) {
    j["flows_rejudged"] = e.flows_rejudged;
    j["flows_cut"] = e.flows_cut;
  }
  if (forward_) forward_->forward(j);
  return writer_.write(j);
}

}  // namespace vitrine::netmon
