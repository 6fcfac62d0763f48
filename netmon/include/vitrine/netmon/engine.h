// The data path: every frame from either interface is decoded, policed at layer 2, checked
// as its receiving host would check it (checksums, and for TCP the connection's state: the
// normaliser), put in its flow, classified, judged against the policy and then forwarded,
// held or dropped. The same engine serves the live relay and the replay of captures; it does
// no I/O of its own (frames leave through a FrameSink, events through an EventSink) and reads
// time only from the timestamps it is given, so tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/decode.h"
#include "vitrine/netmon/deny_cache.h"
#include "vitrine/netmon/events.h"
#include "vitrine/netmon/flow.h"
#include "vitrine/netmon/hold_queue.h"
#include "vitrine/netmon/layer2_police.h"
#include "vitrine/netmon/metrics.h"
#include "vitrine/netmon/priority_lanes.h"
#include "vitrine/policy/evaluate.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Sends one frame out of interface `to`; false when it could not be sent.
  virtual bool send(Side to, const uint8_t* data, size_t len) = 0;
};

// Events are rate-limited so that a guest flooding violations cannot fill the disk; what is
// suppressed is counted. 200 a second is far above what a cabinet's normal life produces.
inline constexpr uint32_t kMaxEventsPerSecond = 200;
// Flows denied at their first packet are remembered this long and this many at most: long
// enough that a client's retransmitted SYNs (XP: after 3 and 6 more seconds) count as one
// denied flow; a full port scan of 65,536 ports cycles through them, which costs nothing but
// a second flow_denied event for a port probed twice more than 10 s apart.
inline constexpr size_t kDeniedFlowsRemembered = 8192;
inline constexpr uint64_t kDeniedFlowLifetimeUs = 10'000'000;
// Flows netmon cut are remembered after they leave the table, so that a segment continuing
// one is dropped rather than opening a fresh flow (both hosts were sent resets: ten minutes
// is long past any retransmission).
inline constexpr size_t kCutFlowsRemembered = 4096;
inline constexpr uint64_t kCutFlowLifetimeUs = 600'000'000;
// Resets answering SYNs denied at their first packet, at most this many a second: a scan gets
// its answers, a flood with forged sources cannot turn netmon into a reflector or fill the
// uplink's transmit ring that the cabinet's own frames need.
inline constexpr uint32_t kMaxFirstPacketResetsPerSecond = 1000;

struct EngineOptions {
  // Live, offloads are off on both interfaces and every frame carries its real checksums.
  // A capture taken on a host that offloaded them has wrong ones on what that host sent:
  // replay of such a capture turns this off (replay --checksums ignore).
  bool verify_checksums = true;
};

class Engine {
 public:
  using FlowEndHook = std::function<void(const Flow&)>;
  // A message an inspector read, once judged (the flow's verdict is what it led to).
  using MessageHook = std::function<void(const Flow&, const InspectedMessage&)>;
  // Bytes an inspector read: the endpoint's stream (0 initiator, 1 responder) from `offset`.
  using StreamHook = std::function<void(const Flow&, uint8_t endpoint, uint64_t offset, const uint8_t* data, size_t len)>;

  Engine(std::shared_ptr<const policy::Policy> policy, const NdpiClassifier& classifier,
         FrameSink& sink, EventSink& events, NetmonMetrics& metrics, LinkType link,
         EngineOptions options = {});
  ~Engine();

  // One frame as captured. `from` is the interface it arrived on; replay passes nullopt and
  // the side is inferred from the guest's identity (the guest side without one).
  void on_frame(std::optional<Side> from, const uint8_t* data, size_t caplen, size_t wirelen,
                uint64_t time_us);
  // A frame whose on_frame() threw: not forwarded, and its flow, whose state the exception may
  // have left half-written, cut as a denied flow is (rule "internal_error").
  void fail_frame(const uint8_t* data, size_t len, uint64_t now_us, const std::string& what);
  // Applies hold deadlines and idle timeouts up to `now_us`.
  void on_tick(uint64_t now_us);
  // The engine's clock is whatever its frames and ticks are stamped with: the capture's times
  // in replay, the monotonic clock in the relay (so that a step of the wall clock moves no
  // deadline and no duration). Events are stamped in wall time: their time plus this offset
  // (0 in replay; wall minus monotonic in the relay, set each round).
  void set_wall_offset_us(int64_t offset) { wall_offset_us_ = offset; }
  // The latest time the engine was given, by a frame or a tick.
  uint64_t now_us() const { return now_us_; }
  // The earliest hold deadline, so that a live loop knows how long it may sleep; 0 if none.
  uint64_t next_deadline_us() const { return hold_.next_deadline_us(); }
  // Ends every flow (end of a capture, or shutdown).
  void finish();

  // A new policy, already loaded and validated. Flows it finds allowed are judged again: one
  // the new policy definitively denies is cut as a denied flow is (resets both ways, nothing
  // more forwarded). Pending flows go on to be judged under it; denied flows stay denied. The
  // flow table's size and idle timeouts stay those netmon started with.
  struct ReloadResult {
    uint64_t rejudged = 0;
    uint64_t cut = 0;
  };
  ReloadResult replace_policy(std::shared_ptr<const policy::Policy> next, uint64_t now_us);
  const policy::Policy& policy() const { return *policy_; }

  void set_flow_end_hook(FlowEndHook hook) { flow_end_hook_ = std::move(hook); }
  void set_message_hook(MessageHook hook) { message_hook_ = std::move(hook); }
  void set_stream_hook(StreamHook hook) { stream_hook_ = std::move(hook); }
  const NdpiClassifier& classifier() const { return classifier_; }
  const FlowTable& flows() const { return table_; }
  size_t denied_flows_remembered() const { return denied_.size(); }
  // Allowed flows that have been answered, the most recently active first (at most `max`):
  // what the priority lanes take exactly. The generation changes whenever that set may have.
  std::vector<LaneFlow> lane_flows(size_t max) const;
  uint64_t lane_generation() const { return lane_generation_; }
  uint64_t frames() const { return frames_; }
  // Frames dropped for a wrong IP or transport checksum.
  uint64_t checksum_drops() const { return checksum_drops_; }

 private:
  struct Frame {
    const uint8_t* data;
    size_t len;
    Side from;
    uint64_t time_us;
  };

  Side infer_side(const Decoded& d) const;
  bool checks_pass(const Frame& f, const Decoded& d);
  void handle_ip(const Frame& f, const Decoded& d);

  // Admission (engine_admission.cpp): the flow of a frame, or nullptr when the frame was
  // dropped without one (denied at its first packet, a continuation of a cut flow, a cap).
  Flow* admit(const Frame& f, const Decoded& d);
  Flow* existing_flow(const FlowKey& key, const Decoded& d);
  bool remembered_denial(const Frame& f, const Decoded& d, const FlowKey& key);
  void deny_first(const Frame& f, const Decoded& d, const FlowKey& key, std::string rule, const char* reason,
                  bool midstream);
  void reset_first(const Frame& f, const Decoded& d);
  bool make_room(const Frame& f, const Decoded& d);
  void init_flow(Flow& flow, const Frame& f, const Decoded& d);
  void end_denied(const DeniedFlow& denied);

  // TCP: the connection's state and its streams (engine_streams.cpp). False: dropped.
  bool normalise_tcp(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint);
  bool check_stream(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint);
  void normaliser_drop(Flow& flow, const Frame& f, NormDrop reason);
  // A segment's bytes into its stream while the protocol is recognised (before nDPI's turn
  // at the packet, so that a protocol only netmon knows is named first); then, once an
  // inspector reads the flow, to the inspector (after nDPI's turn, as judging needs it).
  void open_streams(Flow& flow);
  void take_segment(Flow& flow, const Decoded& d, uint8_t endpoint, uint64_t now_us);
  void inspect_segment(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint);
  void recognise(Flow& flow, uint64_t now_us);
  bool in_force(const InspectorRegistration& reg) const;  // a rule judges its messages, or a patch is on
  void attach_inspector(Flow& flow, const InspectorRegistration& reg, const std::vector<uint8_t>& prefix);
  void end_recognition(Flow& flow);
  void handle_inspection(Flow& flow, InspectionOutput& out, uint64_t now_us);
  void report_message(Flow& flow, const InspectedMessage& m, std::string_view block);
  void judge_message(Flow& flow, const InspectedMessage& m, uint64_t now_us);
  void virtual_patch_hit(Flow& flow, const InspectedMessage& m, uint64_t now_us);

  void classify(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint);
  void resolve_pending(Flow& flow, uint64_t now_us);
  // Judges an allowed flow again on what is known now (a new policy, or attributes reported
  // after its verdict); cuts it when the policy now denies it. True when it was cut.
  bool rejudge_allowed(Flow& flow, uint64_t now_us, const std::string& reason);
  void cut_for_outcome(Flow& flow, const char* outcome, const std::string& reason, uint64_t now_us);
  // A hold bound ran out: what the flow waited for (its verdict, its protocol) is given up.
  void give_up_waiting(Flow& flow, const char* limit, uint64_t value, uint64_t limit_value, uint64_t now_us);
  void resolve_undetermined(Flow& flow, const char* limit, uint64_t value, uint64_t limit_value,
                            uint64_t now_us, const char* outcome, policy::Action action);
  void apply(Flow& flow, const policy::Decision& decision, uint64_t now_us);
  void apply(Flow& flow, policy::Action action, std::string rule, std::string reason, uint64_t now_us);
  // The flow's payload waits: for its verdict, or for its protocol to be recognised.
  bool waits(const Flow& flow, const Decoded& d, uint8_t endpoint) const;
  void hold(Flow& flow, const Frame& f, uint8_t endpoint, SeqSpan tcp);
  void release_held(Flow& flow, bool forward);
  void send_resets(Flow& flow);
  void forward(const Frame& f);
  void note_forwarded(Flow& flow, uint8_t endpoint, SeqSpan tcp);
  void drop(const Frame& f) { metrics_.packet(f.from, false, f.len); }
  void account(Flow& flow);
  // `remember_cut`: a denied flow is remembered as cut, so that what continues it is dropped.
  void end_flow(Flow& flow, bool remember_cut = true);
  void remove_flow(Flow& flow);
  TimeoutClass timeout_class_of(const Flow& flow) const;

  // Events (engine_events.cpp).
  void emit(Event e);
  Event flow_event(const Flow& flow, Event::Kind kind, uint64_t time_us, const std::string& reason) const;
  void layer2_violation(const Frame& f, const Decoded& d, L2Drop reason);
  void limit_event(const Flow* flow, const Frame& f, const Decoded* d, const char* limit, uint64_t value,
                   uint64_t limit_value, std::string reason);

  std::shared_ptr<const policy::Policy> policy_;
  const NdpiClassifier& classifier_;
  // The inspectors that read responder segments (inspector.h), looked up once, not per packet.
  const std::vector<const InspectorRegistration*>& responder_readers_;
  FrameSink& sink_;
  EventSink& events_;
  NetmonMetrics& metrics_;
  LinkType link_;
  EngineOptions options_;
  FlowTable table_;
  DenyCache denied_{kDeniedFlowsRemembered, kDeniedFlowLifetimeUs};
  DenyCache cut_{kCutFlowsRemembered, kCutFlowLifetimeUs};
  HoldQueue hold_;
  FlowEndHook flow_end_hook_;
  MessageHook message_hook_;
  StreamHook stream_hook_;
  // The name of what decided a flow, kept once: rule names (of every policy in force so far)
  // and outcome names, a bounded set.
  const std::string* rule_name(std::string name) { return &*rule_names_.insert(std::move(name)).first; }
  std::unordered_set<std::string> rule_names_;
  uint64_t frames_ = 0;
  static constexpr uint64_t kExpiryCheckUs = 1000;
  uint64_t last_expiry_us_ = 0;
  uint64_t now_us_ = 0;
  int64_t wall_offset_us_ = 0;
  uint64_t checksum_drops_ = 0;
  uint64_t lane_generation_ = 0;
  // The key of the patient references in events: one per netmon process, never written down,
  // so a reference can be followed within a run and not turned back into an identifier.
  std::string patient_key_;
  // Rate limits: one-second windows.
  uint64_t event_window_start_us_ = 0;
  uint32_t events_in_window_ = 0;
  uint64_t reset_window_start_us_ = 0;
  uint32_t resets_in_window_ = 0;
};

}  // namespace vitrine::netmon
