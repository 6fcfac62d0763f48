// The data path: every frame from either interface is decoded, policed at layer 2, put in
// its flow, classified, judged against the policy and then forwarded, held or dropped. The
// same engine serves the live relay and the replay of captures; it does no I/O of its own
// (frames leave through a FrameSink, events through an EventSink) and reads time only from
// the timestamps it is given, so tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/decode.h"
#include "vitrine/netmon/events.h"
#include "vitrine/netmon/flow.h"
#include "vitrine/netmon/metrics.h"
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

class Engine {
 public:
  using FlowEndHook = std::function<void(const Flow&)>;
  // A message an inspector read, once judged (the flow's verdict is what it led to).
  using MessageHook = std::function<void(const Flow&, const InspectedMessage&)>;

  Engine(std::shared_ptr<const policy::Policy> policy, const NdpiClassifier& classifier,
         FrameSink& sink, EventSink& events, NetmonMetrics& metrics, LinkType link);
  ~Engine();

  // One frame as captured. `from` is the interface it arrived on; replay passes nullopt and
  // the side is inferred from the guest's identity (the guest side without one).
  void on_frame(std::optional<Side> from, const uint8_t* data, size_t caplen, size_t wirelen,
                uint64_t time_us);
  // Applies hold deadlines and idle timeouts up to `now_us`.
  void on_tick(uint64_t now_us);
  // The earliest hold deadline, so that a live loop knows how long it may sleep; 0 if none.
  uint64_t next_deadline_us() const;
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
  const NdpiClassifier& classifier() const { return classifier_; }
  const FlowTable& flows() const { return table_; }
  uint64_t frames() const { return frames_; }

 private:
  enum class L2Result : uint8_t { Inspect, Forward, Drop };
  struct Frame {
    const uint8_t* data;
    size_t len;
    Side from;
    uint64_t time_us;
  };

  Side infer_side(const Decoded& d) const;
  L2Result police_layer2(const Frame& f, const Decoded& d);
  void handle_ip(const Frame& f, const Decoded& d);
  Flow* flow_for(const Frame& f, const Decoded& d, bool& created);
  void init_flow(Flow& flow, const Frame& f, const Decoded& d);
  void judge_new_flow(Flow& flow, uint64_t now_us);
  void cut_for_outcome(Flow& flow, const char* outcome, const std::string& reason, uint64_t now_us);
  void track_tcp(Flow& flow, uint8_t endpoint, const Decoded& d);
  void classify(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint);
  void resolve_pending(Flow& flow, uint64_t now_us);
  // Judges an allowed flow again on what is known now (a new policy, or attributes reported
  // after its verdict); cuts it when the policy now denies it. True when it was cut.
  bool rejudge_allowed(Flow& flow, uint64_t now_us, const std::string& reason);
  // The initiator's first payload offered to netmon's inspectors (inspector.h).
  void recognise(Flow& flow, const Decoded& d);
  // A payload of an inspected flow: its messages judged as they complete.
  void inspect(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint);
  // A judged message's attributes become the flow's (report), then decide its fate (judge).
  void report_message(Flow& flow, const InspectedMessage& m);
  void judge_message(Flow& flow, const InspectedMessage& m, uint64_t now_us);
  // An inspector saw an attack a virtual patch stops: recorded, and cut unless the policy
  // says alert.
  void virtual_patch_hit(Flow& flow, const InspectedMessage& m, uint64_t now_us);
  void resolve_undetermined(Flow& flow, const char* limit, uint64_t value, uint64_t limit_value,
                            uint64_t now_us);
  void resolve_undetermined(Flow& flow, const char* limit, uint64_t value, uint64_t limit_value,
                            uint64_t now_us, const char* outcome, policy::Action action);
  void apply(Flow& flow, const policy::Decision& decision, uint64_t now_us);
  void apply(Flow& flow, policy::Action action, std::string rule, std::string reason,
             uint64_t now_us);
  void hold(Flow& flow, const Frame& f, uint8_t endpoint, uint32_t seq_end);
  void release_held(Flow& flow, bool forward);
  void send_resets(Flow& flow);
  void forward(const Frame& f);
  void note_forwarded(Flow& flow, uint8_t endpoint, uint32_t seq_end);
  void drop(const Frame& f) { metrics_.packet(f.from, false, f.len); }
  void account(Flow& flow);
  void end_flow(Flow& flow);
  void emit(Event e);
  Event flow_event(const Flow& flow, Event::Kind kind, uint64_t time_us) const;
  void layer2_violation(const Frame& f, const Decoded& d, L2Drop reason);

  std::shared_ptr<const policy::Policy> policy_;
  const NdpiClassifier& classifier_;
  FrameSink& sink_;
  EventSink& events_;
  NetmonMetrics& metrics_;
  LinkType link_;
  FlowTable table_;
  std::set<std::pair<uint64_t, Flow*>> hold_deadlines_;
  size_t held_frames_ = 0;
  FlowEndHook flow_end_hook_;
  MessageHook message_hook_;
  uint64_t frames_ = 0;
  // The key of the patient references in events: one per netmon process, never written down,
  // so a reference can be followed within a run and not turned back into an identifier.
  std::string patient_key_;
  // Event rate limit: a one-second window.
  uint64_t event_window_start_us_ = 0;
  uint32_t events_in_window_ = 0;
};

}  // namespace vitrine::netmon
