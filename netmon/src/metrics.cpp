#include "vitrine/netmon/metrics.h"

#include <algorithm>

#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {
const char* direction_of(Side from) { return from == Side::Guest ? "egress" : "ingress"; }
const char* interface_of(Side s) { return s == Side::Guest ? "guest" : "uplink"; }
}  // namespace

NetmonMetrics::NetmonMetrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)) {
  auto& r = *registry_;
  register_frames(r);
  register_verdicts(r);
  register_messages(r);
  register_flow_table(r);
  register_lanes_and_limits(r);
}

// Frames: by direction and verdict, and each way one is dropped before a verdict.
void NetmonMetrics::register_frames(prometheus::Registry& r) {
  auto& packets = BuildCounter()
                      .Name("vitrine_netmon_packets_total")
                      .Help("Frames by direction (egress: from the guest) and final verdict")
                      .Register(r);
  auto& bytes = BuildCounter()
                    .Name("vitrine_netmon_bytes_total")
                    .Help("Frame bytes by direction and final verdict")
                    .Register(r);
  for (Side s : {Side::Guest, Side::Uplink})
    for (int fwd = 0; fwd < 2; ++fwd) {
      const prometheus::Labels labels{{"direction", direction_of(s)},
                                      {"verdict", fwd ? "allow" : "deny"}};
      packets_[static_cast<size_t>(s)][fwd] = {&packets.Add(labels), &bytes.Add(labels)};
    }

  auto& malformed = BuildCounter()
                        .Name("vitrine_netmon_malformed_packets_total")
                        .Help("Frames that did not decode, by reason")
                        .Register(r);
  for (size_t i = 1; i < malformed_.size(); ++i)
    malformed_[i] = &malformed.Add({{"reason", to_string(static_cast<Malformed>(i))}});
  malformed_[0] = malformed_[1];  // never used: None is not malformed

  auto& l2 = BuildCounter()
                 .Name("vitrine_netmon_layer2_dropped_packets_total")
                 .Help("Frames dropped by the layer-2 police, by reason")
                 .Register(r);
  for (size_t i = 0; i < l2_drops_.size(); ++i)
    l2_drops_[i] = &l2.Add({{"reason", to_string(static_cast<L2Drop>(i))}});

  auto& norm = BuildCounter()
                   .Name("vitrine_netmon_normaliser_dropped_packets_total")
                   .Help("Frames dropped because the host they are for would discard them or could read them two ways, by reason")
                   .Register(r);
  for (size_t i = 1; i < norm_drops_.size(); ++i)
    norm_drops_[i] = &norm.Add({{"reason", to_string(static_cast<NormDrop>(i))}});
  norm_drops_[0] = norm_drops_[1];  // never used: None is no drop

  auto& dhcp = BuildCounter()
                   .Name("vitrine_netmon_dhcp_messages_total")
                   .Help("Datagrams between DHCP's ports with dhcpClient on, by direction and what the DHCP police found")
                   .Register(r);
  for (Side s : {Side::Guest, Side::Uplink})
    for (size_t i = 1; i < static_cast<size_t>(DhcpOutcome::kCount); ++i)
      dhcp_[static_cast<size_t>(s)][i] =
          &dhcp.Add({{"direction", direction_of(s)}, {"outcome", to_string(static_cast<DhcpOutcome>(i))}});

  auto& frags = BuildCounter()
                    .Name("vitrine_netmon_fragments_total")
                    .Help("IP fragments, by the outcome the policy gives them")
                    .Register(r);
  fragments_[0] = &frags.Add({{"verdict", "deny"}});
  fragments_[1] = &frags.Add({{"verdict", "allow"}});

  auto& drops = BuildCounter()
                    .Name("vitrine_netmon_capture_dropped_packets_total")
                    .Help("Frames the packet source dropped before netmon saw them")
                    .Register(r);
  auto& send = BuildCounter()
                   .Name("vitrine_netmon_send_errors_total")
                   .Help("Frames that could not be sent out of an interface")
                   .Register(r);
  for (Side s : {Side::Guest, Side::Uplink}) {
    capture_drops_[static_cast<size_t>(s)] = &drops.Add({{"interface", interface_of(s)}});
    send_errors_[static_cast<size_t>(s)] = &send.Add({{"interface", interface_of(s)}});
  }
}

// Flows and their verdicts, the rules that gave them, the policy in force and its reloads.
void NetmonMetrics::register_verdicts(prometheus::Registry& r) {
  flows_ = &BuildCounter()
                .Name("vitrine_netmon_flows_total")
                .Help("Flows by application protocol and verdict, counted once per flow")
                .Register(r);
  rule_hits_ = &BuildCounter()
                    .Name("vitrine_netmon_rule_hits_total")
                    .Help("Flow verdicts by the rule (or default, or outcome) that decided")
                    .Register(r);
  would_deny_ = &BuildCounter()
                     .Name("vitrine_netmon_would_deny_flows_total")
                     .Help("Flows a rule in monitor mode would have denied, and let pass")
                     .Register(r);
  policy_info_ = &BuildGauge()
                      .Name("vitrine_netmon_policy_info")
                      .Help("1 for the policy in force, labelled with its name and the sha256 of its file")
                      .Register(r);
  policy_loaded_at_ = &BuildGauge()
                           .Name("vitrine_netmon_policy_loaded_timestamp_seconds")
                           .Help("When the policy in force was loaded (Unix time)")
                           .Register(r)
                           .Add({});
  auto& reloads = BuildCounter()
                      .Name("vitrine_netmon_policy_reloads_total")
                      .Help("Policy reloads by result: accepted, or refused with the running policy kept")
                      .Register(r);
  reloads_ok_ = &reloads.Add({{"result", "accepted"}});
  reloads_refused_ = &reloads.Add({{"result", "refused"}});
  reload_cut_flows_ = &BuildCounter()
                           .Name("vitrine_netmon_policy_reload_cut_flows_total")
                           .Help("Flows that a reloaded policy denied and netmon cut")
                           .Register(r)
                           .Add({});
  limits_ = &BuildCounter()
                 .Name("vitrine_netmon_limit_reached_total")
                 .Help("Times a named limit was reached")
                 .Register(r);
}

// What the inspectors read: messages, answers, malformed bytes, virtual patches.
void NetmonMetrics::register_messages(prometheus::Registry& r) {
  messages_ = &BuildCounter()
                   .Name("vitrine_netmon_messages_total")
                   .Help("Messages netmon's inspectors read, by protocol, type, direction and the flow's verdict")
                   .Register(r);
  naks_ = &BuildCounter()
              .Name("vitrine_netmon_message_naks_total")
              .Help("Answers that refused a message (HL7 AE, AR, CE, CR; DICOM A-ASSOCIATE-RJ; an RDP negotiation failure; a Modbus exception)")
              .Register(r);
  for (const InspectorRegistration& inspector : inspector_registry())
    if (inspector.refusals) naks_->Add({{"protocol", inspector.protocol}});  // at 0: the first counts as an increase
  ack_latency_ = &BuildHistogram()
                     .Name("vitrine_netmon_message_ack_latency_seconds")
                     .Help("Time from a message to the answer that acknowledges it")
                     .Register(r);
  inspector_malformed_ = &BuildCounter()
                             .Name("vitrine_netmon_inspector_malformed_total")
                             .Help("Bytes of a recognised protocol that did not follow it, by protocol and reason")
                             .Register(r);
  for (const InspectorRegistration& inspector : inspector_registry())
    for (const MalformedReason* reason : inspector.malformed)
      inspector_malformed_by_reason_[reason] =
          &inspector_malformed_->Add({{"protocol", inspector.protocol}, {"reason", reason->id}});
  virtual_patches_ = &BuildCounter()
                         .Name("vitrine_netmon_virtual_patch_hits_total")
                         .Help("Attacks a virtual patch recognised, by patch, signature and what was done (deny or alert)")
                         .Register(r);
  virtual_patch_blind_ = &BuildCounter()
                             .Name("vitrine_netmon_virtual_patch_blind_total")
                             .Help("Flows a virtual patch that is on cannot read past a point (encrypted), by patch and why")
                             .Register(r);
}

// Frames held for a verdict, the time to one, and the flow table.
void NetmonMetrics::register_flow_table(prometheus::Registry& r) {
  held_total_ = &BuildCounter()
                     .Name("vitrine_netmon_held_packets_total")
                     .Help("Frames held back while their flow's verdict was pending")
                     .Register(r)
                     .Add({});
  held_now_ = &BuildGauge()
                   .Name("vitrine_netmon_held_packets")
                   .Help("Frames held back now")
                   .Register(r)
                   .Add({});
  processing_ =
      &BuildHistogram()
           .Name("vitrine_netmon_packet_processing_seconds")
           .Help("Time from a frame's arrival in netmon to its verdict")
           .Register(r)
           .Add({}, kProcessingBuckets);
  table_size_ = &BuildGauge()
                     .Name("vitrine_netmon_flow_table_flows")
                     .Help("Flows in the flow table")
                     .Register(r)
                     .Add({});
  table_capacity_ = &BuildGauge()
                         .Name("vitrine_netmon_flow_table_capacity_flows")
                         .Help("The flow table's limit (limits.maxFlows)")
                         .Register(r)
                         .Add({});
  auto& evictions = BuildCounter()
                        .Name("vitrine_netmon_flow_table_evictions_total")
                        .Help("Flows removed from the table, by reason")
                        .Register(r);
  evicted_idle_ = &evictions.Add({{"reason", "idle_timeout"}});
  evicted_full_ = &evictions.Add({{"reason", "table_full"}});
  evicted_unanswered_[static_cast<size_t>(Side::Guest)] = &evictions.Add({{"reason", "unanswered_from_guest"}});
  evicted_unanswered_[static_cast<size_t>(Side::Uplink)] = &evictions.Add({{"reason", "unanswered_from_network"}});
  auto& unanswered = BuildGauge()
                         .Name("vitrine_netmon_flow_table_unanswered_flows")
                         .Help("Flows in the table their responder has not answered yet, by the side that opened them")
                         .Register(r);
  unanswered_[static_cast<size_t>(Side::Guest)] = &unanswered.Add({{"opener", "guest"}});
  unanswered_[static_cast<size_t>(Side::Uplink)] = &unanswered.Add({{"opener", "network"}});
  auto& remembered = BuildGauge()
                         .Name("vitrine_netmon_remembered_flows")
                         .Help("Flows remembered outside the table: denied at their first packet, or cut by a verdict")
                         .Register(r);
  remembered_denied_ = &remembered.Add({{"kind", "denied"}});
  remembered_cut_ = &remembered.Add({{"kind", "cut"}});
}

// The priority lanes, resets sent and suppressed, and the event log.
void NetmonMetrics::register_lanes_and_limits(prometheus::Registry& r) {
  auto& lane_updates = BuildCounter()
                           .Name("vitrine_netmon_priority_lane_updates_total")
                           .Help("Rebuilds of the priority lanes' kernel filters, by result (failed: only the policy's own terms kept)")
                           .Register(r);
  lane_updates_applied_ = &lane_updates.Add({{"result", "applied"}});
  lane_updates_failed_ = &lane_updates.Add({{"result", "failed"}});
  lane_flows_ = &BuildGauge()
                     .Name("vitrine_netmon_priority_lane_flows")
                     .Help("Allowed, answered flows whose exact endpoints the priority lanes take")
                     .Register(r)
                     .Add({});
  auto& lane_drops = BuildCounter()
                         .Name("vitrine_netmon_priority_lane_dropped_packets_total")
                         .Help("Frames of the priority lane the kernel dropped (its ring full), by interface")
                         .Register(r);
  for (Side s : {Side::Guest, Side::Uplink}) lane_drops_[static_cast<size_t>(s)] = &lane_drops.Add({{"interface", interface_of(s)}});
  resets_suppressed_ = &BuildCounter()
                            .Name("vitrine_netmon_tcp_resets_suppressed_total")
                            .Help("Resets not sent to flows denied at their first packet, over the rate limit")
                            .Register(r)
                            .Add({});
  resets_ = &BuildCounter()
                 .Name("vitrine_netmon_tcp_resets_sent_total")
                 .Help("TCP resets sent to end denied flows")
                 .Register(r)
                 .Add({});
  events_suppressed_ = &BuildCounter()
                            .Name("vitrine_netmon_events_suppressed_total")
                            .Help("Events not written because the event rate limit was reached")
                            .Register(r)
                            .Add({});
  event_write_errors_ = &BuildCounter()
                             .Name("vitrine_netmon_event_write_errors_total")
                             .Help("Events that could not be written to the events file")
                             .Register(r)
                             .Add({});
}

void NetmonMetrics::publish() {
  for (size_t side = 0; side < 2; ++side)
    for (size_t fwd = 0; fwd < 2; ++fwd) {
      auto& pending = pending_packets_[side][fwd];
      if (pending.packets == 0) continue;
      packets_[side][fwd].packets->Increment(static_cast<double>(pending.packets));
      packets_[side][fwd].bytes->Increment(static_cast<double>(pending.bytes));
      pending = PendingPackets{};
    }
  for (size_t i = 1; i < pending_norm_drops_.size(); ++i)
    if (pending_norm_drops_[i] != 0) {
      norm_drops_[i]->Increment(static_cast<double>(pending_norm_drops_[i]));
      pending_norm_drops_[i] = 0;
    }
  if (pending_resets_suppressed_ != 0) {
    resets_suppressed_->Increment(static_cast<double>(pending_resets_suppressed_));
    pending_resets_suppressed_ = 0;
  }
  bool any = false;
  for (double n : pending_processing_) any |= n > 0;
  if (!any) return;
  processing_->ObserveMultiple(pending_processing_, pending_processing_sum_);
  std::fill(pending_processing_.begin(), pending_processing_.end(), 0.0);
  pending_processing_sum_ = 0;
}

void NetmonMetrics::flow(const std::string& protocol, Verdict verdict) {
  flows_->Add({{"protocol", protocol}, {"verdict", to_string(verdict)}}).Increment();
}

void NetmonMetrics::rule_hit(const std::string& rule, policy::Action action) {
  rule_hits_->Add({{"rule", rule}, {"action", policy::to_string(action)}}).Increment();
}

void NetmonMetrics::would_deny(const std::string& rule) { would_deny_->Add({{"rule", rule}}).Increment(); }

void NetmonMetrics::policy_loaded(const std::string& name, const std::string& sha256, double unix_seconds) {
  if (policy_info_current_) policy_info_->Remove(policy_info_current_);
  policy_info_current_ = &policy_info_->Add({{"policy", name}, {"sha256", sha256}});
  policy_info_current_->Set(1);
  policy_loaded_at_->Set(unix_seconds);
}

void NetmonMetrics::rules_in_force(const policy::Policy& policy) {
  for (const auto& rule : policy.rules) rule_hits_->Add({{"rule", rule.name}, {"action", policy::to_string(rule.action)}});
  rule_hits_->Add({{"rule", "default"}, {"action", policy::to_string(policy.default_action)}});
}

void NetmonMetrics::policy_reload(bool accepted, uint64_t flows_cut) {
  (accepted ? reloads_ok_ : reloads_refused_)->Increment();
  reload_cut_flows_->Increment(static_cast<double>(flows_cut));
}

void NetmonMetrics::limit_reached(const std::string& limit) {
  limits_->Add({{"limit", limit}}).Increment();
}

void NetmonMetrics::message(const std::string& protocol, const std::string& type, policy::Direction direction,
                            Verdict verdict) {
  // Every message of an inspected flow passes here: its counter is looked up by a flat key
  // first, and built from labels only the first time.
  std::string key = protocol;
  key += '\0';
  key += type;
  key += static_cast<char>('0' + static_cast<int>(direction));
  key += static_cast<char>('0' + static_cast<int>(verdict));
  if (const auto it = message_counters_.find(key); it != message_counters_.end()) {
    it->second->Increment();
    return;
  }
  auto& seen = message_types_seen_[protocol];
  std::string label = type;
  if (seen.count(type) == 0) {
    if (seen.size() < kMaxMessageTypeLabels) seen.insert(type);
    else label = "other";
  }
  prometheus::Counter& counter = messages_->Add(
      {{"protocol", protocol}, {"type", label}, {"direction", policy::to_string(direction)}, {"verdict", to_string(verdict)}});
  // Bounded as the labels are: kMaxMessageTypeLabels types (and "other") per protocol.
  if (label != "other") message_counters_.emplace(std::move(key), &counter);
  counter.Increment();
}

void NetmonMetrics::negative_ack(const std::string& protocol) { naks_->Add({{"protocol", protocol}}).Increment(); }

void NetmonMetrics::ack_latency(const std::string& protocol, double seconds) {
  // From a local interface engine's few milliseconds to a pharmacy system timing out at 30 s.
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                   0.5,   1,    2.5,   5,    10,  30};
  ack_latency_->Add({{"protocol", protocol}}, kBuckets).Observe(seconds);
}

void NetmonMetrics::inspector_malformed(const InspectorRegistration& inspector, const MalformedReason& reason) {
  const auto it = inspector_malformed_by_reason_.find(&reason);
  // A reason its inspector does not list is a slip a unit test catches; counted all the same.
  prometheus::Counter& c = it != inspector_malformed_by_reason_.end()
                               ? *it->second
                               : inspector_malformed_->Add({{"protocol", inspector.protocol}, {"reason", reason.id}});
  c.Increment();
}

void NetmonMetrics::virtual_patch(const std::string& patch, const std::string& signature, policy::PatchMode mode) {
  virtual_patches_->Add({{"patch", patch}, {"signature", signature}, {"action", policy::to_string(mode)}}).Increment();
}

void NetmonMetrics::virtual_patch_blind(const std::string& patch, const std::string& reason) {
  virtual_patch_blind_->Add({{"patch", patch}, {"reason", reason}}).Increment();
}

void NetmonMetrics::set_total(prometheus::Counter& c, uint64_t total) {
  // The packet source reports running totals; counters only move forward.
  const double now = static_cast<double>(total);
  if (now > c.Value()) c.Increment(now - c.Value());
}

}  // namespace vitrine::netmon
