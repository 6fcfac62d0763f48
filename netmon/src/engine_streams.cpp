// TCP in the engine: each segment is held to the connection's state as its receiving host
// holds it (tcp_tracker.h) and, while netmon reads the flow's bytes, to what its streams
// already hold (reassembly.h): a segment either would discard or could read two ways is
// dropped. The initiator's first bytes, reassembled from the handshake, show which inspector
// reads the flow; its messages are then judged as they complete.
#include <netinet/in.h>

#include <algorithm>
#include <limits>

#include "vitrine/netmon/engine.h"

namespace vitrine::netmon {

namespace {

// Hands a stream's in-order bytes to the flow's inspector (and to the stream hook, which
// replay uses to write down what was read).
class InspectorFeed : public StreamSink {
 public:
  InspectorFeed(Inspector& inspector, const StreamReassembler& stream, bool from_initiator, uint64_t time_us,
                InspectionOutput& out, const Flow& flow, const Engine::StreamHook& hook)
      : inspector_(inspector), stream_(stream), from_initiator_(from_initiator), time_us_(time_us), out_(out),
        flow_(flow), hook_(hook) {}
  void on_bytes(const uint8_t* data, size_t len) override {
    // The reassembler counts bytes as delivered before it hands them on.
    if (hook_) hook_(flow_, from_initiator_ ? 0 : 1, stream_.delivered() - len, data, len);
    inspector_.on_bytes(from_initiator_, data, len, time_us_, out_);
  }

 private:
  Inspector& inspector_;
  const StreamReassembler& stream_;
  bool from_initiator_;
  uint64_t time_us_;
  InspectionOutput& out_;
  const Flow& flow_;
  const Engine::StreamHook& hook_;
};

// While the protocol is being recognised the bytes are only kept (the reassembler retains
// what it delivers until it is acknowledged, and nothing is acknowledged while it is held).
class KeepOnly : public StreamSink {
 public:
  void on_bytes(const uint8_t*, size_t) override {}
};

}  // namespace

bool Engine::normalise_tcp(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint) {
  const TcpState before = flow.tcp;
  const TcpResult t = track_segment(flow.tcp, endpoint, d);
  if (t.drop != NormDrop::None) {
    normaliser_drop(flow, f, t.drop);
    return false;
  }
  if (d.payload_len > 0 && !(d.tcp_flags & tcp_flag::kRst)) open_streams(flow);
  if (flow.streams && !check_stream(flow, f, d, endpoint)) {
    flow.tcp = before;  // the receiver never gets it: nothing of it counts
    return false;
  }
  if (t.established) {
    table_.answered(flow);
    ++lane_generation_;
    metrics_.unanswered(flow.opener, table_.unanswered(flow.opener));
  }
  return true;
}

bool Engine::check_stream(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint) {
  FlowStreams& s = *flow.streams;
  if (d.payload_len == 0 || (d.tcp_flags & tcp_flag::kRst)) {
    if (d.tcp_flags & tcp_flag::kAck) s.stream[1 - endpoint].acknowledged(d.tcp_ack);
    return true;
  }
  NormDrop reason = NormDrop::None;
  if (d.tcp_flags & tcp_flag::kUrg) {
    reason = NormDrop::UrgentData;  // Linux and Windows disagree on whether the urgent byte is data
  } else {
    switch (s.stream[endpoint].check(d.tcp_seq, d.payload, d.payload_len)) {
      case SegmentCheck::New:
      case SegmentCheck::Duplicate: break;
      case SegmentCheck::Conflict: reason = NormDrop::OverlapConflict; break;
      case SegmentCheck::Unverifiable: reason = NormDrop::Unverifiable; break;
      case SegmentCheck::BeyondBound: reason = NormDrop::ReassemblyBound; break;
    }
  }
  if (reason == NormDrop::None) {
    if (d.tcp_flags & tcp_flag::kAck) s.stream[1 - endpoint].acknowledged(d.tcp_ack);
    return true;
  }
  normaliser_drop(flow, f, reason);
  if (reason == NormDrop::ReassemblyBound) {
    const auto action = policy_->outcomes.on_reassembly_limit;
    limit_event(&flow, f, &d, "reassemblyPendingBytes", s.stream[endpoint].pending_bytes() + d.payload_len,
                policy_->limits.reassembly_pending_bytes,
                std::string("a segment too far ahead of the stream was dropped: onReassemblyLimit is ") +
                    policy::to_string(action));
    if (action == policy::Action::Deny) cut_for_outcome(flow, "onReassemblyLimit", "reassemblyPendingBytes", f.time_us);
  }
  return false;
}

void Engine::normaliser_drop(Flow& flow, const Frame& f, NormDrop reason) {
  metrics_.normaliser_drop(reason);
  ++flow.dropped_packets;
  drop(f);
  // Stragglers after a reset are what any capture shows: counted, not reported.
  if (flow.normaliser_reported || reason == NormDrop::AfterReset) return;
  flow.normaliser_reported = true;  // one event per flow: a flood of them is counted, not written
  emit(flow_event(flow, Event::Kind::NormaliserDrop, f.time_us, to_string(reason)));
}

// At the flow's first bytes: its streams, until recognition says whether anything reads them.
void Engine::open_streams(Flow& flow) {
  if (flow.streams || flow.recognition_done) return;
  const uint32_t bound = policy_->limits.reassembly_pending_bytes;
  flow.streams = std::make_unique<FlowStreams>(bound, bound);
  // Anchored where the handshake says each stream starts; a flow picked up midway starts at
  // the first segment it shows.
  if (flow.tcp.phase != TcpPhase::Midstream) {
    flow.streams->stream[0].start_at(flow.tcp.stream_start(0));
    flow.streams->stream[1].start_at(flow.tcp.stream_start(1));
  }
}

void Engine::take_segment(Flow& flow, const Decoded& d, uint8_t endpoint, uint64_t now_us) {
  if (!flow.streams || flow.streams->inspector) return;  // an inspector's bytes go after nDPI's turn
  FlowStreams& s = *flow.streams;
  KeepOnly keep;
  s.stream[endpoint].accept(d.tcp_seq, d.payload, d.payload_len, keep);
  if (endpoint == 0 && s.recognising) recognise(flow, now_us);
}

void Engine::inspect_segment(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint) {
  if (!flow.streams || !flow.streams->inspector) return;
  FlowStreams& s = *flow.streams;
  InspectionOutput out;
  if (s.backlog) {
    // Attached at this segment: what came before it, and it, from the streams' starts (the
    // initiator's bytes first: our inspectors' protocols have the client speak first).
    s.backlog = false;
    constexpr size_t kAll = std::numeric_limits<size_t>::max();
    const std::vector<uint8_t> initiator = s.stream[0].retained(0, kAll);
    if (stream_hook_) stream_hook_(flow, 0, 0, initiator.data(), initiator.size());
    s.inspector->on_bytes(true, initiator.data(), initiator.size(), f.time_us, out);
    if (s.stream[1].retained_from() == 0 && s.stream[1].delivered() > 0) {
      const std::vector<uint8_t> responder = s.stream[1].retained(0, kAll);
      if (stream_hook_) stream_hook_(flow, 1, 0, responder.data(), responder.size());
      s.inspector->on_bytes(false, responder.data(), responder.size(), f.time_us, out);
    }
  } else {
    InspectorFeed feed(*s.inspector, s.stream[endpoint], endpoint == 0, f.time_us, out, flow, stream_hook_);
    s.stream[endpoint].accept(d.tcp_seq, d.payload, d.payload_len, feed);
  }
  handle_inspection(flow, out, f.time_us);
  const bool open = flow.classification.attributes_pending;
  if (flow.streams && !open) flow.streams->message_unheld = false;
  // A message still open keeps what it holds until it is whole (waits()).
  if (flow.verdict == Verdict::Allow && !(flow.streams && flow.streams->holds_message(open))) release_held(flow, true);
}

void Engine::recognise(Flow& flow, uint64_t now_us) {
  FlowStreams& s = *flow.streams;
  if (s.stream[0].retained_from() != 0) {  // its start is no longer kept: nothing can be told
    end_recognition(flow);
    return;
  }
  const std::vector<uint8_t> prefix = s.stream[0].retained(0, kMaxRecognitionBytes);
  if (prefix.empty()) return;  // a hole at the start: wait for it to fill
  const bool final = prefix.size() >= kMaxRecognitionBytes;
  bool waiting = false, undecided = false;
  for (const auto& reg : inspector_registry()) {
    if (!reg.recognises) continue;  // it reads no streams
    if (reg.responder_port != 0 && reg.responder_port != flow.responder_port()) continue;
    const Recognition r = reg.recognises(prefix.data(), prefix.size());
    if (r == Recognition::NeedMore && !final) waiting = true;
    // Still "not yet" at the bound (a run of keepalives, say): the flow may be this protocol.
    if (r == Recognition::NeedMore && final && in_force(reg)) undecided = true;
    if (r != Recognition::Yes) continue;
    if (waiting) return;  // an inspector listed before it cannot tell yet
    attach_inspector(flow, reg, prefix);
    return;
  }
  if (waiting) return;
  if (undecided) {
    // An inspector that must read this flow if it is its protocol could not tell within the
    // bound: as any flow whose protocol was not known in time (onUndetermined).
    give_up_waiting(flow, "recognitionBytes", prefix.size(), kMaxRecognitionBytes, now_us);
    return;
  }
  end_recognition(flow);
  if (flow.verdict == Verdict::Allow) release_held(flow, true);
}

bool Engine::in_force(const InspectorRegistration& reg) const {
  const bool judged = reg.block[0] != '\0' && (policy_->inspect_all || policy_->judges(reg.block));
  return judged || std::any_of(reg.patches.begin(), reg.patches.end(),
                               [&](policy::VirtualPatch p) { return policy_->patch(p) != policy::PatchMode::Off; });
}

void Engine::end_recognition(Flow& flow) {
  flow.recognition_done = true;
  if (!flow.streams) return;
  flow.streams->recognising = false;
  if (!flow.streams->inspector) flow.streams.reset();  // nothing reads it: nothing to keep
}

void Engine::attach_inspector(Flow& flow, const InspectorRegistration& reg, const std::vector<uint8_t>& prefix) {
  Classification& c = flow.classification;
  if (reg.naming != Naming::None) {
    const policy::L7Facts named = reg.protocol_of(prefix.data(), prefix.size());
    c.protocol.master = named.master;
    c.protocol.app = named.app;
    c.by_inspection = true;
    if (reg.naming == Naming::Own) classifier_.give_up(c);  // nDPI does not know it
    else c.provisional = true;
  }
  // Messages are read only when a rule judges them (or a virtual patch needs them).
  const bool judged = reg.block[0] != '\0' && (policy_->inspect_all || policy_->judges(reg.block));
  if (!in_force(reg)) {
    end_recognition(flow);
    if (flow.verdict == Verdict::Allow) release_held(flow, true);
    return;
  }
  FlowStreams& s = *flow.streams;
  s.inspector = reg.create(patient_key_);
  s.registration = &reg;
  s.judged = judged;
  s.backlog = true;  // read after nDPI's turn at this packet (inspect_segment)
  end_recognition(flow);
  if (judged) c.attributes_pending = true;  // the first message is on its way
}

void Engine::handle_inspection(Flow& flow, InspectionOutput& out, uint64_t now_us) {
  if (!flow.streams || !flow.streams->inspector) return;
  Inspector& inspector = *flow.streams->inspector;
  if (out.messages.empty() && out.malformed.empty()) {
    flow.classification.attributes_pending = inspector.reading_message();
    return;  // most segments complete nothing: no name, no metric, no event
  }
  const std::string protocol = classifier_.app_name(flow.classification.protocol);
  const InspectorRegistration& reg = *flow.streams->registration;  // a verdict below may free the streams
  const char* block = reg.block;
  for (const MalformedReason* reason : out.malformed) {
    metrics_.inspector_malformed(reg, *reason);
    if (flow.verdict == Verdict::Deny) continue;
    emit(flow_event(flow, Event::Kind::Malformed, now_us,
                    protocol + ": " + reason->description + " (" + reason->id +
                        "): onMalformed is " + policy::to_string(policy_->outcomes.on_malformed)));
    if (policy_->outcomes.on_malformed == policy::Action::Deny)
      cut_for_outcome(flow, "onMalformed", std::string("malformed ") + protocol, now_us);
  }
  for (const auto& m : out.messages) {
    const bool judged = m.from_initiator && m.judge;
    if (judged) report_message(flow, m, block);  // events about this message name its attributes
    if (m.patch && flow.verdict != Verdict::Deny) virtual_patch_hit(flow, m, now_us);
    if (m.blinds && policy_->patch(*m.blinds) != policy::PatchMode::Off)
      metrics_.virtual_patch_blind(policy::to_string(*m.blinds), m.blind_reason);
    if (judged && flow.verdict != Verdict::Deny) judge_message(flow, m, now_us);
    const bool guest_sent = m.from_initiator == (flow.direction == policy::Direction::Egress);
    metrics_.message(protocol, m.type, guest_sent ? policy::Direction::Egress : policy::Direction::Ingress, flow.verdict);
    if (m.negative_ack) metrics_.negative_ack(protocol);
    if (m.ack_latency_seconds) metrics_.ack_latency(protocol, *m.ack_latency_seconds);
    if (message_hook_) message_hook_(flow, m);
  }
  // A verdict above may have cut the flow and freed its streams.
  if (flow.streams && flow.streams->inspector)
    flow.classification.attributes_pending = flow.streams->inspector->reading_message();
}

void Engine::virtual_patch_hit(Flow& flow, const InspectedMessage& m, uint64_t now_us) {
  const policy::PatchMode mode = policy_->patch(*m.patch);
  if (mode == policy::PatchMode::Off) return;
  const std::string name = std::string("virtualPatches.") + policy::to_string(*m.patch);
  metrics_.virtual_patch(policy::to_string(*m.patch), m.signature, mode);
  Event e = flow_event(flow, Event::Kind::VirtualPatch, now_us,
                       std::string(policy::to_string(*m.patch)) + " traffic (" + m.type + "): " + policy::to_string(mode));
  e.rule = name;
  e.signature = m.signature;
  emit(std::move(e));
  if (mode == policy::PatchMode::Deny) apply(flow, policy::Action::Deny, name, m.signature, now_us);
}

void Engine::report_message(Flow& flow, const InspectedMessage& m, std::string_view block) {
  Classification& c = flow.classification;
  // Every field of the block, so that one the message leaves out is no longer the flow's.
  for (const policy::Attr a : classifier_.attributes())
    if (block == a->block) c.report(a, std::string(m.attributes.get(a)));
  c.set_patient_ref(m.patient_ref);
  c.attributes_pending = false;  // this message is whole
}

void Engine::judge_message(Flow& flow, const InspectedMessage& m, uint64_t now_us) {
  if (flow.verdict == Verdict::Pending)
    resolve_pending(flow, now_us);
  else
    rejudge_allowed(flow, now_us, "judged on its " + classifier_.app_name(flow.classification.protocol) + " message " + m.type);
}

}  // namespace vitrine::netmon
