// netmon's Prometheus metrics. Label values come from fixed sets (directions, verdicts, reasons,
// limit names), the policy's rule names, and nDPI's protocol names.
//
// The per-packet counts (packets, bytes, processing time) are kept in plain integers owned by
// the data-path thread and moved into the registry by publish(), which the relay calls once per
// batch of frames: an atomic update of the registry per frame cost a tenth of the relay's time.
// Everything else is rare and goes to the registry at once.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <string>
#include <vector>

#include "vitrine/netmon/decode.h"
#include "vitrine/netmon/flow.h"
#include "vitrine/netmon/layer2_police.h"
#include "vitrine/netmon/normalise.h"

namespace vitrine::netmon {

class NetmonMetrics {
 public:
  explicit NetmonMetrics(std::shared_ptr<prometheus::Registry> registry);

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  // A frame's final disposition: `from` is the side it arrived on.
  void packet(Side from, bool forwarded, size_t bytes) {
    auto& slot = pending_packets_[static_cast<size_t>(from)][forwarded ? 1 : 0];
    ++slot.packets;
    slot.bytes += bytes;
  }
  void processing_seconds(double s) {
    size_t i = 0;
    while (i < kProcessingBuckets.size() && s > kProcessingBuckets[i]) ++i;
    ++pending_processing_[i];
    pending_processing_sum_ += s;
  }
  // Moves the per-packet counts gathered since the last call into the registry.
  void publish();
  void malformed(Malformed reason) { malformed_[static_cast<size_t>(reason)]->Increment(); }
  void layer2_drop(L2Drop reason) { l2_drops_[static_cast<size_t>(reason)]->Increment(); }
  // Per frame, as floods send them: gathered, then published with the packet counts.
  void normaliser_drop(NormDrop reason) { ++pending_norm_drops_[static_cast<size_t>(reason)]; }
  void dhcp(Side from, DhcpOutcome outcome) { dhcp_[static_cast<size_t>(from)][static_cast<size_t>(outcome)]->Increment(); }
  void evicted_unanswered(Side opener) { evicted_unanswered_[static_cast<size_t>(opener)]->Increment(); }
  void unanswered(Side opener, size_t n) { unanswered_[static_cast<size_t>(opener)]->Set(static_cast<double>(n)); }
  void remembered(size_t denied, size_t cut) {
    remembered_denied_->Set(static_cast<double>(denied));
    remembered_cut_->Set(static_cast<double>(cut));
  }
  void resets_suppressed() { ++pending_resets_suppressed_; }
  void lanes_updated(bool applied, size_t flows) {
    (applied ? lane_updates_applied_ : lane_updates_failed_)->Increment();
    lane_flows_->Set(static_cast<double>(flows));
  }
  void priority_lane_drops(Side side, uint64_t total) { set_total(*lane_drops_[static_cast<size_t>(side)], total); }
  void fragment(bool forwarded) { fragments_[forwarded ? 1 : 0]->Increment(); }
  void held(size_t now_holding) {
    held_total_->Increment();
    held_now_->Set(static_cast<double>(now_holding));
  }
  void holding(size_t now_holding) { held_now_->Set(static_cast<double>(now_holding)); }
  void table_size(size_t n) { table_size_->Set(static_cast<double>(n)); }
  void evicted_idle() { evicted_idle_->Increment(); }
  void evicted_full() { evicted_full_->Increment(); }
  void capture_drops(Side side, uint64_t total) { set_total(*capture_drops_[static_cast<size_t>(side)], total); }
  void send_error(Side to) { send_errors_[static_cast<size_t>(to)]->Increment(); }
  void rst_sent() { resets_->Increment(); }
  void events_suppressed() { events_suppressed_->Increment(); }
  void event_write_error() { event_write_errors_->Increment(); }

  // Per-flow and per-rule counters: looked up by label, once per flow or verdict.
  void flow(const std::string& protocol, Verdict verdict);
  void rule_hit(const std::string& rule, policy::Action action);
  void would_deny(const std::string& rule);
  // The policy in force: its name and sha256 as labels of a gauge that is 1, and when.
  void policy_loaded(const std::string& name, const std::string& sha256, double unix_seconds);
  // Every rule's hit counter (and the default's) at 0 from the moment the policy is in force:
  // Prometheus's increase() does not count a series' first sample, so a rule's first hit would
  // otherwise go unseen by the alerts.
  void rules_in_force(const policy::Policy& policy);
  void policy_reload(bool accepted, uint64_t flows_cut);
  void limit_reached(const std::string& limit);
  // Messages an inspector read (HL7, ...): by protocol, type, direction as the guest sees it
  // (egress: the guest sent it) and the flow's verdict once the message was judged.
  void message(const std::string& protocol, const std::string& type, policy::Direction direction,
               Verdict verdict);
  void negative_ack(const std::string& protocol);
  void ack_latency(const std::string& protocol, double seconds);
  // Bytes an inspector read as not its protocol: by its name and the reason's id (both from
  // closed sets, every pair registered at 0 when netmon starts).
  void inspector_malformed(const InspectorRegistration& inspector, const MalformedReason& reason);
  void virtual_patch(const std::string& patch, const std::string& signature, policy::PatchMode mode);
  // A flow whose traffic a patch that is on cannot read from here on (encrypted).
  void virtual_patch_blind(const std::string& patch, const std::string& reason);
  void table_capacity(size_t n) { table_capacity_->Set(static_cast<double>(n)); }

 private:
  void register_frames(prometheus::Registry& r);
  void register_verdicts(prometheus::Registry& r);
  void register_messages(prometheus::Registry& r);
  void register_flow_table(prometheus::Registry& r);
  void register_lanes_and_limits(prometheus::Registry& r);
  static void set_total(prometheus::Counter& c, uint64_t total);

  struct PacketSlot {
    prometheus::Counter* packets;
    prometheus::Counter* bytes;
  };
  struct PendingPackets {
    uint64_t packets = 0;
    uint64_t bytes = 0;
  };
  // From 1 us (a decoded, forwarded frame) to 10 ms (nDPI on a large first packet, events).
  static inline const std::vector<double> kProcessingBuckets = {
      1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2};

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<std::array<PacketSlot, 2>, 2> packets_{};  // [side][forwarded]
  std::array<std::array<PendingPackets, 2>, 2> pending_packets_{};
  std::vector<double> pending_processing_ = std::vector<double>(kProcessingBuckets.size() + 1, 0.0);
  double pending_processing_sum_ = 0;
  std::array<prometheus::Counter*, static_cast<size_t>(Malformed::kCount)> malformed_{};
  std::array<prometheus::Counter*, static_cast<size_t>(L2Drop::kCount)> l2_drops_{};
  std::array<prometheus::Counter*, static_cast<size_t>(NormDrop::kCount)> norm_drops_{};
  std::array<uint64_t, static_cast<size_t>(NormDrop::kCount)> pending_norm_drops_{};
  std::array<std::array<prometheus::Counter*, static_cast<size_t>(DhcpOutcome::kCount)>, 2> dhcp_{};
  std::array<prometheus::Counter*, 2> evicted_unanswered_{};
  std::array<prometheus::Gauge*, 2> unanswered_{};
  prometheus::Gauge* remembered_denied_;
  prometheus::Gauge* remembered_cut_;
  prometheus::Counter* resets_suppressed_;
  prometheus::Counter* lane_updates_applied_;
  prometheus::Counter* lane_updates_failed_;
  prometheus::Gauge* lane_flows_;
  std::array<prometheus::Counter*, 2> lane_drops_{};
  uint64_t pending_resets_suppressed_ = 0;
  std::array<prometheus::Counter*, 2> fragments_{};
  std::array<prometheus::Counter*, 2> capture_drops_{};
  std::array<prometheus::Counter*, 2> send_errors_{};
  prometheus::Family<prometheus::Counter>* flows_;
  prometheus::Family<prometheus::Counter>* rule_hits_;
  prometheus::Family<prometheus::Counter>* would_deny_;
  prometheus::Family<prometheus::Gauge>* policy_info_;
  prometheus::Gauge* policy_info_current_ = nullptr;
  prometheus::Gauge* policy_loaded_at_;
  prometheus::Counter* reloads_ok_;
  prometheus::Counter* reloads_refused_;
  prometheus::Counter* reload_cut_flows_;
  prometheus::Family<prometheus::Counter>* limits_;
  // Message types are the sender's text: the first kMaxMessageTypeLabels seen per protocol
  // get a label value of their own, the rest are counted as "other", so that a hostile guest
  // cannot grow the metric without bound.
  static constexpr size_t kMaxMessageTypeLabels = 64;
  std::map<std::string, std::set<std::string>> message_types_seen_;
  std::unordered_map<std::string, prometheus::Counter*> message_counters_;
  prometheus::Family<prometheus::Counter>* messages_;
  prometheus::Family<prometheus::Counter>* naks_;
  prometheus::Family<prometheus::Histogram>* ack_latency_;
  prometheus::Family<prometheus::Counter>* inspector_malformed_;
  std::unordered_map<const MalformedReason*, prometheus::Counter*> inspector_malformed_by_reason_;
  prometheus::Family<prometheus::Counter>* virtual_patches_;
  prometheus::Family<prometheus::Counter>* virtual_patch_blind_;
  prometheus::Counter* held_total_;
  prometheus::Gauge* held_now_;
  prometheus::Histogram* processing_;
  prometheus::Gauge* table_size_;
  prometheus::Gauge* table_capacity_;
  prometheus::Counter* evicted_idle_;
  prometheus::Counter* evicted_full_;
  prometheus::Counter* resets_;
  prometheus::Counter* events_suppressed_;
  prometheus::Counter* event_write_errors_;
};

}  // namespace vitrine::netmon
