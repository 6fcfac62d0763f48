#include "vitrine/netmon/engine.h"

#include "tls/tls_inspector.h"
#include "vitrine/common/sha256.h"

#include <netinet/in.h>

#include <algorithm>
#include <chrono>

#include "vitrine/netmon/tcp_reset.h"

namespace vitrine::netmon {

namespace {

constexpr uint16_t kDhcpServerPort = 67, kDhcpClientPort = 68;

TimeoutClass timeout_class_of(uint8_t ip_protocol) {
  switch (ip_protocol) {
    case IPPROTO_TCP: return TimeoutClass::Tcp;
    case IPPROTO_UDP: return TimeoutClass::Udp;
    default: return TimeoutClass::Other;
  }
}

bool is_bare_syn(const Decoded& d) {
  return d.l4_protocol == IPPROTO_TCP && (d.tcp_flags & tcp_flag::kSyn) &&
         !(d.tcp_flags & tcp_flag::kAck) && d.payload_len == 0;
}

bool is_syn_ack(const Decoded& d) {
  constexpr uint8_t both = tcp_flag::kSyn | tcp_flag::kAck;
  return d.l4_protocol == IPPROTO_TCP && (d.tcp_flags & both) == both;
}

// Sequence-space "later than", modulo 2^32.
bool seq_after(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }

// Records that bytes up to seq_end were sent by `endpoint` (seen by netmon, or forwarded).
void advance_seq(uint32_t (&next)[2], bool (&known)[2], uint8_t endpoint, uint32_t seq_end) {
  if (!known[endpoint] || seq_after(seq_end, next[endpoint])) {
    next[endpoint] = seq_end;
    known[endpoint] = true;
  }
}

uint32_t tcp_seq_end(const Decoded& d) {
  return d.tcp_seq + d.payload_len + ((d.tcp_flags & tcp_flag::kSyn) ? 1 : 0) +
         ((d.tcp_flags & tcp_flag::kFin) ? 1 : 0);
}

// What the policy is asked about a flow; the L7 protocol only once payload inspection named it.
policy::FlowFacts facts_of(const Flow& flow) {
  policy::FlowFacts facts;
  facts.direction = flow.direction;
  facts.ip_protocol = flow.ip_protocol;
  facts.peer = flow.direction == policy::Direction::Egress ? flow.responder_ip : flow.initiator_ip;
  facts.service_port = flow.responder_port;
  if (flow.classification.by_inspection) {
    facts.l7 = flow.classification.protocol;
    facts.l7->risks = flow.classification.risks;
    // nDPI names a protocol once it has read the message that carries its attributes; what
    // it reads later (the server's TLS hello) re-judges the flow (rejudge_allowed).
    facts.l7->attributes = &flow.classification.attributes;
    facts.l7->attributes_final = !flow.classification.attributes_pending;
    facts.l7->risks_final = !(flow.classification.provisional && !flow.classification.completed);
  }
  return facts;
}

bool is_guest_address(const policy::GuestIdentity& g, const IpAddr& ip) {
  return ip == g.ipv4 || std::find(g.ipv6.begin(), g.ipv6.end(), ip) != g.ipv6.end();
}

uint64_t now_monotonic_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

Engine::Engine(std::shared_ptr<const policy::Policy> policy, const NdpiClassifier& classifier,
               FrameSink& sink, EventSink& events, NetmonMetrics& metrics, LinkType link)
    : policy_(std::move(policy)),
      classifier_(classifier),
      sink_(sink),
      events_(events),
      metrics_(metrics),
      link_(link),
      table_(policy_->limits.max_flows, FlowTimeouts::from(policy_->limits)),
      patient_key_(random_bytes(32)) {
  metrics_.table_capacity(policy_->limits.max_flows);
}

Engine::~Engine() = default;

void Engine::on_frame(std::optional<Side> from, const uint8_t* data, size_t caplen,
                      size_t wirelen, uint64_t time_us) {
  const uint64_t started = now_monotonic_ns();
  ++frames_;
  Decoded d;
  const Malformed bad = decode_frame(link_, data, caplen, wirelen, d);
  const Frame f{data, caplen, from ? *from : infer_side(d), time_us};

  if (bad != Malformed::None) {
    metrics_.malformed(bad);
    if (policy_->outcomes.on_malformed == policy::Action::Allow)
      forward(f);
    else
      drop(f);
  } else {
    switch (police_layer2(f, d)) {
      case L2Result::Drop: drop(f); break;
      case L2Result::Forward: forward(f); break;
      case L2Result::Inspect:
        if (d.fragment) {
          // A fragment carries no ports (or only some of them): the policy cannot judge it.
          const bool pass = policy_->outcomes.on_fragment == policy::Action::Allow;
          metrics_.fragment(pass);
          pass ? forward(f) : drop(f);
        } else {
          handle_ip(f, d);
        }
        break;
    }
  }
  metrics_.processing_seconds(static_cast<double>(now_monotonic_ns() - started) * 1e-9);
}

Side Engine::infer_side(const Decoded& d) const {
  if (!policy_->guest) return Side::Guest;
  const auto& g = *policy_->guest;
  if (d.has_ethernet && d.src_mac == g.mac) return Side::Guest;
  if (d.kind == FrameKind::Ip && is_guest_address(g, d.src_ip)) return Side::Guest;
  if (d.kind == FrameKind::Arp && d.arp.sender_ip == g.ipv4) return Side::Guest;
  return Side::Uplink;
}

Engine::L2Result Engine::police_layer2(const Frame& f, const Decoded& d) {
  if (!policy_->guest) return d.kind == FrameKind::Ip ? L2Result::Inspect : L2Result::Forward;
  const auto& g = *policy_->guest;
  const bool udp = d.kind == FrameKind::Ip && d.l4_protocol == IPPROTO_UDP && d.has_l4;
  auto refuse = [&](L2Drop reason) {
    metrics_.layer2_drop(reason);
    // Traffic for other hosts is the LAN's business, not a violation by the guest.
    if (reason != L2Drop::NotForGuest) layer2_violation(f, d, reason);
    return L2Result::Drop;
  };

  if (f.from == Side::Guest) {
    if (d.has_ethernet && d.src_mac != g.mac) return refuse(L2Drop::SpoofedMac);
    switch (d.kind) {
      case FrameKind::Arp:
        if (d.arp.sender_mac != g.mac ||
            (d.arp.sender_ip != g.ipv4 && !d.arp.sender_ip.is_unspecified()))
          return refuse(L2Drop::ArpSpoof);
        return L2Result::Forward;
      case FrameKind::OtherL2: return refuse(L2Drop::NonIp);
      case FrameKind::Ip:
        if (udp && d.src_port == kDhcpServerPort) return refuse(L2Drop::DhcpServer);
        if (udp && policy_->layer2.dhcp_client && d.src_port == kDhcpClientPort &&
            d.dst_port == kDhcpServerPort)
          return L2Result::Forward;
        if (!is_guest_address(g, d.src_ip)) return refuse(L2Drop::SpoofedIp);
        return L2Result::Inspect;
    }
  } else {
    if (d.has_ethernet && d.dst_mac != g.mac && !d.dst_mac.is_multicast())
      return refuse(L2Drop::NotForGuest);
    switch (d.kind) {
      case FrameKind::Arp:
        if (d.arp.target_ip != g.ipv4) return refuse(L2Drop::NotForGuest);
        return L2Result::Forward;
      case FrameKind::OtherL2: return refuse(L2Drop::NonIp);
      case FrameKind::Ip:
        if (udp && policy_->layer2.dhcp_client && d.src_port == kDhcpServerPort &&
            d.dst_port == kDhcpClientPort)
          return L2Result::Forward;
        if (!is_guest_address(g, d.dst_ip) && !d.dst_ip.is_broadcast_or_multicast())
          return refuse(L2Drop::NotForGuest);
        return L2Result::Inspect;
    }
  }
  return L2Result::Drop;
}

Flow* Engine::flow_for(const Frame& f, const Decoded& d, bool& created) {
  const FlowKey key = FlowKey::of(d.src_ip, d.src_port, d.dst_ip, d.dst_port, d.l4_protocol);
  const TimeoutClass cls = timeout_class_of(d.l4_protocol);
  if (Flow* existing = table_.find(key)) {
    const bool closed = existing->timeout_class == TimeoutClass::TcpClosed;
    if (!(closed && is_bare_syn(d))) {
      table_.touch(*existing, closed ? TimeoutClass::TcpClosed : cls, f.time_us);
      return existing;
    }
    // A new connection on the ports of a closed one: it is judged afresh, not by the
    // verdict of its predecessor.
    end_flow(*existing);
    table_.remove(*existing);
  }
  Flow* flow = table_.insert(key, cls, f.time_us);
  if (flow == nullptr) {
    const auto& limits = policy_->limits;
    metrics_.limit_reached("maxFlows");
    Event e;
    e.kind = Event::Kind::LimitReached;
    e.time_us = f.time_us;
    e.l4 = l4_name(d.l4_protocol);
    e.src = d.src_ip;
    e.sport = d.src_port;
    e.dst = d.dst_ip;
    e.dport = d.dst_port;
    e.limit = "maxFlows";
    e.value = table_.size();
    e.limit_value = limits.max_flows;
    if (policy_->outcomes.on_flow_table_full == policy::FullTableOutcome::Deny) {
      e.reason = "flow table full: new flow dropped";
      emit(std::move(e));
      return nullptr;
    }
    e.reason = "flow table full: oldest flow evicted";
    emit(std::move(e));
    Flow* victim = table_.oldest();
    end_flow(*victim);
    table_.remove(*victim);
    metrics_.evicted_full();
    flow = table_.insert(key, cls, f.time_us);
  }
  init_flow(*flow, f, d);
  created = true;
  metrics_.table_size(table_.size());
  return flow;
}

void Engine::init_flow(Flow& flow, const Frame& f, const Decoded& d) {
  // A SYN-ACK opening a flow means netmon missed the SYN (it restarted): the receiver of
  // the SYN-ACK is the one that opened the connection.
  const bool reversed = is_syn_ack(d);
  flow.initiator_ip = reversed ? d.dst_ip : d.src_ip;
  flow.initiator_port = reversed ? d.dst_port : d.src_port;
  flow.responder_ip = reversed ? d.src_ip : d.dst_ip;
  flow.responder_port = reversed ? d.src_port : d.dst_port;
  flow.ip_protocol = d.l4_protocol;
  const Side initiator_side = reversed ? other(f.from) : f.from;
  flow.direction =
      initiator_side == Side::Guest ? policy::Direction::Egress : policy::Direction::Ingress;
  const bool from_guest = f.from == Side::Guest;
  flow.guest_mac = policy_->guest ? policy_->guest->mac : (from_guest ? d.src_mac : d.dst_mac);
  flow.peer_mac = from_guest ? d.dst_mac : d.src_mac;
}

void Engine::judge_new_flow(Flow& flow, uint64_t now_us) {
  const policy::Decision decision = policy::evaluate(*policy_, facts_of(flow));
  if (decision.definitive) apply(flow, decision, now_us);
}

void Engine::track_tcp(Flow& flow, uint8_t endpoint, const Decoded& d) {
  advance_seq(flow.seen_next_seq, flow.seen_seq_known, endpoint, tcp_seq_end(d));
  if (d.tcp_flags & tcp_flag::kRst) flow.rst_seen = true;
  if (d.tcp_flags & tcp_flag::kFin) flow.fin_seen[endpoint] = true;
  if (flow.rst_seen || (flow.fin_seen[0] && flow.fin_seen[1]))
    table_.touch(flow, TimeoutClass::TcpClosed, flow.last_us);
}

void Engine::handle_ip(const Frame& f, const Decoded& d) {
  bool created = false;
  Flow* flow = flow_for(f, d, created);
  if (flow == nullptr) {
    drop(f);
    return;
  }
  const uint8_t ep = flow->endpoint_of(d.src_ip, d.src_port);
  ++flow->packets[ep];
  flow->bytes[ep] += f.len;
  if (flow->ip_protocol == IPPROTO_TCP) track_tcp(*flow, ep, d);
  if (created) judge_new_flow(*flow, f.time_us);

  if (flow->verdict == Verdict::Deny) {
    ++flow->dropped_packets;
    drop(f);
    return;
  }
  const uint32_t attributes_before = flow->classification.attributes_version;
  const uint64_t risks_before = flow->classification.risks;
  classify(*flow, f, d, ep);
  if (flow->inspection && d.payload_len > 0) inspect(*flow, f, d, ep);
  if (flow->verdict == Verdict::Pending) resolve_pending(*flow, f.time_us);
  else if (!flow->inspection && flow->classification.attributes_version != attributes_before)
    rejudge_allowed(*flow, f.time_us, "judged again on what the flow said after its verdict");
  else if (flow->classification.risks != risks_before)
    rejudge_allowed(*flow, f.time_us, "judged again on a risk the classifier reported after its verdict");

  const uint32_t seq_end = flow->ip_protocol == IPPROTO_TCP ? tcp_seq_end(d) : 0;
  if (flow->verdict == Verdict::Pending) {
    // Packets without payload (handshakes, bare ACKs) carry nothing to judge: they pass, so
    // that the protocol has a chance to show itself. Payload waits for the verdict.
    if (d.payload_len == 0) {
      forward(f);
      note_forwarded(*flow, ep, seq_end);
    } else {
      hold(*flow, f, ep, seq_end);
    }
    return;
  }
  if (flow->verdict == Verdict::Deny) {
    ++flow->dropped_packets;
    drop(f);
    return;
  }
  forward(f);
  note_forwarded(*flow, ep, seq_end);
  account(*flow);
}

void Engine::classify(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint) {
  Classification& c = flow.classification;
  if (endpoint == 1 && flow.ip_protocol == IPPROTO_TCP) tls::inspect_server_payload(c, d.payload, d.payload_len);
  if (!flow.inspectors_tried && endpoint == 0 && flow.ip_protocol == IPPROTO_TCP && d.payload_len > 0 &&
      !c.by_inspection) {
    flow.inspectors_tried = true;
    recognise(flow, d);
  }
  if (c.completed) return;
  // nDPI's per-flow state is large; a bare SYN tells it nothing, and a flood of them must
  // not cost more than the flow records themselves.
  if (!c.state && is_bare_syn(d)) return;
  const uint32_t budget = flow.ip_protocol == IPPROTO_UDP ? policy_->limits.dpi_max_packets_udp
                                                          : policy_->limits.dpi_max_packets_tcp;
  classifier_.process(c, d.l3, d.l3_len, f.time_us / 1000, budget);
  if (c.completed && c.packets >= budget && !c.by_inspection) {
    const char* limit = flow.ip_protocol == IPPROTO_UDP ? "dpiMaxPacketsUdp" : "dpiMaxPacketsTcp";
    metrics_.limit_reached(limit);
    Event e = flow_event(flow, Event::Kind::LimitReached, f.time_us);
    e.limit = limit;
    e.value = c.packets;
    e.limit_value = budget;
    e.reason = "nDPI could not name the protocol within its packet budget";
    emit(std::move(e));
  }
}

void Engine::resolve_pending(Flow& flow, uint64_t now_us) {
  const Classification& c = flow.classification;
  if (!c.by_inspection && !c.completed) return;
  if (!c.by_inspection) {
    // nDPI gave up, or only guessed from the ports: no rule that names a protocol can be
    // trusted to match, so the policy's declared outcome applies.
    resolve_undetermined(flow, "classifierGaveUp", c.packets, 0, now_us,
                         "onClassifierGaveUp", policy_->outcomes.classifier_gave_up());
    return;
  }
  const policy::Decision d = policy::evaluate(*policy_, facts_of(flow));
  if (d.definitive) apply(flow, d, now_us);  // otherwise held, within the hold bounds
}

void Engine::recognise(Flow& flow, const Decoded& d) {
  for (const auto& reg : inspector_registry()) {
    if (!reg.recognises(d.payload, d.payload_len)) continue;
    Classification& c = flow.classification;
    if (reg.naming != Naming::None) {
      const policy::L7Facts named = reg.protocol_of(d.payload, d.payload_len);
      c.protocol.master = named.master;
      c.protocol.app = named.app;
      c.by_inspection = true;
      if (reg.naming == Naming::Own) classifier_.give_up(c);  // nDPI does not know it
      else c.provisional = true;
    }
    // Messages are read only when a rule judges them (or a virtual patch needs them).
    const bool judged = reg.block[0] != '\0' && (policy_->inspect_all || policy_->judges(reg.block));
    const bool patched = std::any_of(reg.patches.begin(), reg.patches.end(),
                                     [&](policy::VirtualPatch p) { return policy_->patch(p) != policy::PatchMode::Off; });
    if (!judged && !patched) return;
    flow.inspection = std::make_unique<FlowInspection>(reg.create(patient_key_), policy_->limits.reassembly_pending_bytes);
    flow.inspection->block = reg.block;
    flow.inspection->stream[0].start_at(d.tcp_seq);
    if (flow.seen_seq_known[1]) flow.inspection->stream[1].start_at(flow.seen_next_seq[1]);
    if (judged) c.attributes_pending = true;  // the first message is on its way
    return;
  }
}

namespace {
// Hands a stream's in-order bytes and gaps to the flow's inspector.
class InspectorFeed : public StreamSink {
 public:
  InspectorFeed(Inspector& inspector, bool from_initiator, uint64_t time_us, InspectionOutput& out)
      : inspector_(inspector), from_initiator_(from_initiator), time_us_(time_us), out_(out) {}
  void on_bytes(const uint8_t* data, size_t len) override { inspector_.on_bytes(from_initiator_, data, len, time_us_, out_); }
  void on_gap(size_t len) override { inspector_.on_gap(from_initiator_, len, out_); }

 private:
  Inspector& inspector_;
  bool from_initiator_;
  uint64_t time_us_;
  InspectionOutput& out_;
};
}  // namespace

void Engine::inspect(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint) {
  FlowInspection& in = *flow.inspection;
  StreamReassembler& stream = in.stream[endpoint];
  const uint64_t limit_hits = stream.counters().limit_hits;
  InspectionOutput out;
  InspectorFeed feed(*in.inspector, endpoint == 0, f.time_us, out);
  stream.segment(d.tcp_seq, d.payload, d.payload_len, feed);
  if (out.messages.empty() && out.malformed.empty() && stream.counters().limit_hits == limit_hits) {
    flow.classification.attributes_pending = in.inspector->reading_message();
    return;  // most segments complete nothing: no name, no metric, no event
  }
  const std::string protocol = classifier_.app_name(flow.classification.protocol);
  if (stream.counters().limit_hits != limit_hits) {
    metrics_.limit_reached("reassemblyPendingBytes");
    Event e = flow_event(flow, Event::Kind::LimitReached, f.time_us);
    e.limit = "reassemblyPendingBytes";
    e.value = stream.pending_bytes() + d.payload_len;
    e.limit_value = policy_->limits.reassembly_pending_bytes;
    e.reason = std::string("bytes missing from the stream were given up: onReassemblyLimit is ") +
               policy::to_string(policy_->outcomes.on_reassembly_limit);
    emit(std::move(e));
    if (policy_->outcomes.on_reassembly_limit == policy::Action::Deny) {
      cut_for_outcome(flow, "onReassemblyLimit", "reassemblyPendingBytes", f.time_us);
      return;
    }
  }
  for (const char* what : out.malformed) {
    metrics_.inspector_malformed(protocol, what);
    if (flow.verdict == Verdict::Deny) continue;
    Event e = flow_event(flow, Event::Kind::Malformed, f.time_us);
    e.reason = protocol + ": " + what + ": onMalformed is " + policy::to_string(policy_->outcomes.on_malformed);
    emit(std::move(e));
    if (policy_->outcomes.on_malformed == policy::Action::Deny)
      cut_for_outcome(flow, "onMalformed", std::string("malformed ") + protocol, f.time_us);
  }
  for (const auto& m : out.messages) {
    const bool judged = m.from_initiator && m.judge;
    if (judged) report_message(flow, m);  // events about this message name its attributes
    if (m.patch && flow.verdict != Verdict::Deny) virtual_patch_hit(flow, m, f.time_us);
    if (m.blinds && policy_->patch(*m.blinds) != policy::PatchMode::Off)
      metrics_.virtual_patch_blind(policy::to_string(*m.blinds), m.blind_reason);
    if (judged && flow.verdict != Verdict::Deny) judge_message(flow, m, f.time_us);
    const bool guest_sent = m.from_initiator == (flow.direction == policy::Direction::Egress);
    metrics_.message(protocol, m.type, guest_sent ? policy::Direction::Egress : policy::Direction::Ingress, flow.verdict);
    if (m.negative_ack) metrics_.negative_ack(protocol);
    if (m.ack_latency_seconds) metrics_.ack_latency(protocol, *m.ack_latency_seconds);
    if (message_hook_) message_hook_(flow, m);
  }
  flow.classification.attributes_pending = in.inspector->reading_message();
}

void Engine::virtual_patch_hit(Flow& flow, const InspectedMessage& m, uint64_t now_us) {
  const policy::PatchMode mode = policy_->patch(*m.patch);
  if (mode == policy::PatchMode::Off) return;
  const std::string name = std::string("virtualPatches.") + policy::to_string(*m.patch);
  metrics_.virtual_patch(policy::to_string(*m.patch), m.signature, mode);
  Event e = flow_event(flow, Event::Kind::VirtualPatch, now_us);
  e.rule = name;
  e.signature = m.signature;
  e.reason = std::string(policy::to_string(*m.patch)) + " traffic (" + m.type + "): " + policy::to_string(mode);
  emit(std::move(e));
  if (mode == policy::PatchMode::Deny) apply(flow, policy::Action::Deny, name, m.signature, now_us);
}

void Engine::report_message(Flow& flow, const InspectedMessage& m) {
  Classification& c = flow.classification;
  const std::string_view block = flow.inspection->block;
  for (size_t i = 0; i < policy::kAttrCount; ++i) {
    const auto a = static_cast<policy::Attr>(i);
    if (block == policy::info(a).block) c.report(a, m.attributes.get(a));
  }
  c.patient_ref = m.patient_ref;
  c.attributes_pending = false;  // this message is whole
}

void Engine::judge_message(Flow& flow, const InspectedMessage& m, uint64_t now_us) {
  const Classification& c = flow.classification;
  if (flow.verdict == Verdict::Pending)
    resolve_pending(flow, now_us);
  else
    rejudge_allowed(flow, now_us, "judged on its " + classifier_.app_name(c.protocol) + " message " + m.type);
}

void Engine::cut_for_outcome(Flow& flow, const char* outcome, const std::string& reason, uint64_t now_us) {
  if (flow.verdict == Verdict::Deny) return;
  apply(flow, policy::Action::Deny, outcome, reason, now_us);
}

bool Engine::rejudge_allowed(Flow& flow, uint64_t now_us, const std::string& reason) {
  if (flow.verdict != Verdict::Allow) return false;
  const policy::Decision d = policy::evaluate(*policy_, facts_of(flow));
  // A decision that still waits for a protocol nobody will name any more is no reason to cut.
  if (!d.definitive || d.action != policy::Action::Deny) return false;
  if (d.rule != policy::kDefaultRule && policy_->rules[d.rule].mode == policy::Mode::Monitor) {
    if (flow.rule == policy_->rules[d.rule].name) return false;  // already recorded
    metrics_.would_deny(policy_->rules[d.rule].name);
    flow.rule = policy_->rules[d.rule].name;
    Event e = flow_event(flow, Event::Kind::FlowWouldDeny, now_us);
    e.reason = std::string("monitor mode: enforced, this rule would deny the flow (") + reason + ")";
    emit(std::move(e));
    return false;
  }
  apply(flow, policy::Action::Deny, d.rule == policy::kDefaultRule ? "default" : policy_->rules[d.rule].name,
        reason, now_us);
  return true;
}

void Engine::apply(Flow& flow, const policy::Decision& decision, uint64_t now_us) {
  if (decision.rule == policy::kDefaultRule) {
    apply(flow, decision.action, "default", "policy", now_us);
    return;
  }
  const policy::Rule& rule = policy_->rules[decision.rule];
  if (rule.mode == policy::Mode::Monitor && decision.action == policy::Action::Deny) {
    // Recorded as what enforcing the rule would do; the flow passes as if allowed.
    metrics_.would_deny(rule.name);
    flow.rule = rule.name;
    Event e = flow_event(flow, Event::Kind::FlowWouldDeny, now_us);
    e.reason = "monitor mode: enforced, this rule would deny the flow";
    emit(std::move(e));
    apply(flow, policy::Action::Allow, rule.name, "monitor", now_us);
    return;
  }
  apply(flow, decision.action, rule.name, "policy", now_us);
}

void Engine::resolve_undetermined(Flow& flow, const char* limit, uint64_t value,
                                  uint64_t limit_value, uint64_t now_us) {
  resolve_undetermined(flow, limit, value, limit_value, now_us, "onUndetermined",
                       policy_->outcomes.on_undetermined);
}

void Engine::resolve_undetermined(Flow& flow, const char* limit, uint64_t value, uint64_t limit_value,
                                  uint64_t now_us, const char* outcome, policy::Action action) {
  metrics_.limit_reached(limit);
  Event e = flow_event(flow, Event::Kind::LimitReached, now_us);
  e.limit = limit;
  e.value = value;
  e.limit_value = limit_value;
  e.reason = std::string("verdict still pending: ") + outcome + " is " + policy::to_string(action);
  emit(std::move(e));
  apply(flow, action, outcome, limit, now_us);
}

void Engine::apply(Flow& flow, policy::Action action, std::string rule, std::string reason,
                   uint64_t now_us) {
  flow.verdict = action == policy::Action::Deny ? Verdict::Deny : Verdict::Allow;
  flow.action = action;
  flow.rule = std::move(rule);
  flow.reason = std::move(reason);
  metrics_.rule_hit(flow.rule, action);
  if (flow.hold_deadline_us != 0) {
    hold_deadlines_.erase({flow.hold_deadline_us, &flow});
    flow.hold_deadline_us = 0;
  }
  if (action == policy::Action::Deny) {
    emit(flow_event(flow, Event::Kind::FlowDenied, now_us));
    release_held(flow, false);
    send_resets(flow);
    // Nothing more of this flow will be looked at: free nDPI's state now.
    classifier_.give_up(flow.classification);
    account(flow);
    return;
  }
  if (action == policy::Action::Alert) emit(flow_event(flow, Event::Kind::FlowAlert, now_us));
  release_held(flow, true);
  account(flow);
}

void Engine::hold(Flow& flow, const Frame& f, uint8_t endpoint, uint32_t seq_end) {
  const auto& limits = policy_->limits;
  if (flow.held.size() + 1 > limits.hold_packets) {
    resolve_undetermined(flow, "holdPackets", flow.held.size() + 1, limits.hold_packets, f.time_us);
  } else if (flow.held_bytes + f.len > limits.hold_bytes) {
    resolve_undetermined(flow, "holdBytes", flow.held_bytes + f.len, limits.hold_bytes, f.time_us);
  } else {
    flow.held.push_back(HeldFrame{std::vector<uint8_t>(f.data, f.data + f.len), other(f.from),
                                  endpoint, seq_end});
    flow.held_bytes += static_cast<uint32_t>(f.len);
    ++held_frames_;
    metrics_.held(held_frames_);
    if (flow.hold_deadline_us == 0) {
      flow.hold_deadline_us = f.time_us + uint64_t{limits.hold_ms} * 1000;
      hold_deadlines_.insert({flow.hold_deadline_us, &flow});
    }
    return;
  }
  // The bound decided the verdict: this frame follows the held ones.
  if (flow.verdict == Verdict::Allow) {
    forward(f);
    note_forwarded(flow, endpoint, seq_end);
  } else {
    ++flow.dropped_packets;
    drop(f);
  }
}

void Engine::release_held(Flow& flow, bool pass) {
  for (const HeldFrame& h : flow.held) {
    const Frame f{h.bytes.data(), h.bytes.size(), other(h.to), 0};
    if (pass) {
      forward(f);
      note_forwarded(flow, h.endpoint, h.tcp_seq_end);
    } else {
      ++flow.dropped_packets;
      drop(f);
    }
  }
  held_frames_ -= flow.held.size();
  flow.held.clear();
  flow.held.shrink_to_fit();
  flow.held_bytes = 0;
  metrics_.holding(held_frames_);
}

void Engine::send_resets(Flow& flow) {
  if (flow.ip_protocol != IPPROTO_TCP || flow.rst_seen) return;
  // Endpoint 0 opened the flow; the guest is endpoint 0 of egress flows.
  const uint8_t guest = flow.direction == policy::Direction::Egress ? 0 : 1;
  const IpAddr ip[2] = {flow.initiator_ip, flow.responder_ip};
  const uint16_t port[2] = {flow.initiator_port, flow.responder_port};
  const MacAddr mac[2] = {guest == 0 ? flow.guest_mac : flow.peer_mac,
                          guest == 0 ? flow.peer_mac : flow.guest_mac};
  const Side side_of[2] = {guest == 0 ? Side::Guest : Side::Uplink,
                           guest == 0 ? Side::Uplink : Side::Guest};

  // A reset "from" one endpoint to the other. The receiver accepts it when its sequence
  // number is what the receiver expects next (what we forwarded from the sender), or, before
  // anything was forwarded, when it acknowledges what the receiver sent (its SYN).
  auto reset_to = [&](uint8_t to) {
    const uint8_t from = 1 - to;
    ResetSpec spec;
    spec.src_mac = mac[from];
    spec.dst_mac = mac[to];
    spec.src_ip = ip[from];
    spec.dst_ip = ip[to];
    spec.src_port = port[from];
    spec.dst_port = port[to];
    spec.seq = flow.seq_known[from] ? flow.next_seq[from] : 0;
    if (flow.seen_seq_known[to]) spec.ack = flow.seen_next_seq[to];
    const auto frame = build_tcp_reset(spec);
    if (sink_.send(side_of[to], frame.data(), frame.size()))
      metrics_.rst_sent();
    else
      metrics_.send_error(side_of[to]);
  };
  // Only an endpoint that knows of the flow (it sent, or received, part of it) gets a reset.
  for (uint8_t e = 0; e < 2; ++e)
    if (flow.seen_seq_known[e] || flow.seq_known[1 - e]) reset_to(e);
  flow.rst_seen = true;
}

void Engine::note_forwarded(Flow& flow, uint8_t endpoint, uint32_t seq_end) {
  if (flow.ip_protocol == IPPROTO_TCP)
    advance_seq(flow.next_seq, flow.seq_known, endpoint, seq_end);
}

void Engine::forward(const Frame& f) {
  const Side to = other(f.from);
  if (!sink_.send(to, f.data, f.len)) metrics_.send_error(to);
  metrics_.packet(f.from, true, f.len);
}

void Engine::account(Flow& flow) {
  if (flow.accounted || flow.verdict == Verdict::Pending || !flow.classification.completed)
    return;
  flow.accounted = true;
  metrics_.flow(classifier_.app_name(flow.classification.protocol), flow.verdict);
}

void Engine::end_flow(Flow& flow) {
  if (flow.hold_deadline_us != 0) {
    hold_deadlines_.erase({flow.hold_deadline_us, &flow});
    flow.hold_deadline_us = 0;
  }
  if (!flow.held.empty()) release_held(flow, false);
  classifier_.give_up(flow.classification);
  if (!flow.accounted) {
    flow.accounted = true;
    metrics_.flow(classifier_.app_name(flow.classification.protocol), flow.verdict);
  }
  if (flow_end_hook_) flow_end_hook_(flow);
}

void Engine::on_tick(uint64_t now_us) {
  while (!hold_deadlines_.empty() && hold_deadlines_.begin()->first <= now_us) {
    Flow& flow = *hold_deadlines_.begin()->second;
    resolve_undetermined(flow, "holdMilliseconds", (now_us - flow.first_us) / 1000,
                         policy_->limits.hold_ms, now_us);
  }
  const size_t before = table_.size();
  table_.expire(now_us, [this](Flow& flow) {
    end_flow(flow);
    metrics_.evicted_idle();
  });
  if (table_.size() != before) metrics_.table_size(table_.size());
}

uint64_t Engine::next_deadline_us() const {
  return hold_deadlines_.empty() ? 0 : hold_deadlines_.begin()->first;
}

Engine::ReloadResult Engine::replace_policy(std::shared_ptr<const policy::Policy> next, uint64_t now_us) {
  policy_ = std::move(next);
  ReloadResult result;
  table_.for_each([&](Flow& flow) {
    if (flow.verdict != Verdict::Allow) return;
    ++result.rejudged;
    if (rejudge_allowed(flow, now_us, "policy reload")) ++result.cut;
  });
  return result;
}

void Engine::finish() {
  table_.drain([this](Flow& flow) { end_flow(flow); });
  hold_deadlines_.clear();
  metrics_.table_size(0);
}

Event Engine::flow_event(const Flow& flow, Event::Kind kind, uint64_t time_us) const {
  Event e;
  e.kind = kind;
  e.time_us = time_us;
  e.l4 = l4_name(flow.ip_protocol);
  e.src = flow.initiator_ip;
  e.sport = flow.initiator_port;
  e.dst = flow.responder_ip;
  e.dport = flow.responder_port;
  e.direction = policy::to_string(flow.direction);
  e.protocol = classifier_.label(flow.classification.protocol);
  e.attributes = flow.classification.attributes.reported();
  e.patient_ref = flow.classification.patient_ref;
  e.rule = flow.rule;
  e.reason = flow.reason;
  return e;
}

void Engine::layer2_violation(const Frame& f, const Decoded& d, L2Drop reason) {
  Event e;
  e.kind = Event::Kind::Layer2Violation;
  e.time_us = f.time_us;
  e.direction = f.from == Side::Guest ? "egress" : "ingress";
  e.reason = to_string(reason);
  if (d.kind == FrameKind::Ip) {
    e.l4 = l4_name(d.l4_protocol);
    e.src = d.src_ip;
    e.sport = d.src_port;
    e.dst = d.dst_ip;
    e.dport = d.dst_port;
  } else if (d.kind == FrameKind::Arp) {
    e.l4 = "ARP";
    e.src = d.arp.sender_ip;
    e.dst = d.arp.target_ip;
  }
  e.rule = "layer2";
  emit(std::move(e));
}

void Engine::emit(Event e) {
  if (e.time_us >= event_window_start_us_ + 1000000 || e.time_us < event_window_start_us_) {
    event_window_start_us_ = e.time_us;
    events_in_window_ = 0;
  }
  if (events_in_window_ >= kMaxEventsPerSecond) {
    metrics_.events_suppressed();
    return;
  }
  ++events_in_window_;
  if (!events_.emit(e)) metrics_.event_write_error();
}

}  // namespace vitrine::netmon
