// Which frames get a flow. A flow denied at its first packet takes no entry in the table (it
// is remembered briefly in the deny cache, for counting); a TCP flow is opened only by a SYN
// (the sender of the SYN is its initiator, never the sender of a SYN-ACK or of data seen
// first); a flow picked up without its handshake follows onMidstream; and flows nobody has
// answered yet are bounded per side and, from the network, per source, so that a scan or a
// flood fills only its own share of the table.
#include <netinet/in.h>

#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/tcp_reset.h"

namespace vitrine::netmon {

namespace {

bool is_bare_syn(const Decoded& d) {
  return d.l4_protocol == IPPROTO_TCP && (d.tcp_flags & tcp_flag::kSyn) && !(d.tcp_flags & tcp_flag::kAck);
}

TimeoutClass first_class(uint8_t ip_protocol) {
  switch (ip_protocol) {
    case IPPROTO_TCP: return TimeoutClass::TcpHalfOpen;
    case IPPROTO_UDP: return TimeoutClass::Udp;
    default: return TimeoutClass::Other;
  }
}

}  // namespace

Flow* Engine::admit(const Frame& f, const Decoded& d) {
  const FlowKey key = FlowKey::of(d.src_ip, d.src_port, d.dst_ip, d.dst_port, d.l4_protocol);
  if (Flow* existing = existing_flow(key, d)) return existing;
  if (remembered_denial(f, d, key)) return nullptr;
  const bool tcp = d.l4_protocol == IPPROTO_TCP;
  if (tcp && (d.tcp_flags & tcp_flag::kRst)) {
    // A reset of a connection netmon does not know opens nothing and has nothing to end.
    metrics_.normaliser_drop(NormDrop::NoConnection);
    drop(f);
    return nullptr;
  }
  const bool midstream = tcp && !is_bare_syn(d);
  if (midstream && policy_->midstream_outcome() == policy::Action::Deny) {
    deny_first(f, d, key, "onMidstream", "no handshake seen: the stream cannot be read from its start", true);
    return nullptr;
  }
  policy::FlowFacts facts;
  facts.direction = f.from == Side::Guest ? policy::Direction::Egress : policy::Direction::Ingress;
  facts.ip_protocol = d.l4_protocol;
  facts.peer = facts.direction == policy::Direction::Egress ? d.dst_ip : d.src_ip;
  facts.service_port = d.dst_port;
  const policy::Decision decision = policy::evaluate(*policy_, facts);
  const bool enforced = decision.rule == policy::kDefaultRule || policy_->rules[decision.rule].mode == policy::Mode::Enforce;
  if (decision.definitive && decision.action == policy::Action::Deny && enforced) {
    deny_first(f, d, key, decision.rule == policy::kDefaultRule ? "default" : policy_->rules[decision.rule].name,
               "policy", false);
    return nullptr;
  }
  if (!make_room(f, d)) return nullptr;
  Flow* flow = table_.insert(key, first_class(d.l4_protocol), f.time_us, f.from, d.src_ip);
  if (flow == nullptr) {
    const auto& limits = policy_->limits;
    if (policy_->outcomes.on_flow_table_full == policy::FullTableOutcome::Deny) {
      limit_event(nullptr, f, &d, "maxFlows", table_.size(), limits.max_flows, "flow table full: new flow dropped");
      drop(f);
      return nullptr;
    }
    limit_event(nullptr, f, &d, "maxFlows", table_.size(), limits.max_flows, "flow table full: oldest flow evicted");
    remove_flow(*table_.oldest());
    metrics_.evicted_full();
    flow = table_.insert(key, first_class(d.l4_protocol), f.time_us, f.from, d.src_ip);
  }
  init_flow(*flow, f, d);
  metrics_.table_size(table_.size());
  metrics_.unanswered(f.from, table_.unanswered(f.from));
  if (decision.definitive) apply(*flow, decision, f.time_us);
  return flow;
}

Flow* Engine::existing_flow(const FlowKey& key, const Decoded& d) {
  Flow* existing = table_.find(key);
  if (existing == nullptr || existing->ip_protocol != IPPROTO_TCP || !is_bare_syn(d)) return existing;
  // A SYN on the ports of a connection that is over, or that netmon never saw begin, opens a
  // new connection, judged afresh; on a live one it is the tracker's to judge.
  const TcpState& t = existing->tcp;
  const bool over = existing->verdict == Verdict::Deny || t.phase == TcpPhase::Reset ||
                    t.phase == TcpPhase::Midstream || (t.ep[0].fin && t.ep[1].fin);
  if (!over) return existing;
  remove_flow(*existing);
  return nullptr;
}

bool Engine::remembered_denial(const Frame& f, const Decoded& d, const FlowKey& key) {
  const bool syn = is_bare_syn(d);
  if (DeniedFlow* denied = denied_.find(key, f.time_us)) {
    if (denied->midstream && syn) {
      denied_.erase(key);  // the connection starts again, from its handshake
      return false;
    }
    ++denied->packets;
    denied->bytes += f.len;
    if (syn) reset_first(f, d);
    drop(f);
    return true;
  }
  if (!syn && cut_.find(key, f.time_us) != nullptr) {
    metrics_.normaliser_drop(NormDrop::CutFlow);
    drop(f);
    return true;
  }
  return false;
}

void Engine::deny_first(const Frame& f, const Decoded& d, const FlowKey& key, std::string rule, const char* reason,
                        bool midstream) {
  DeniedFlow denied;
  denied.src = d.src_ip;
  denied.dst = d.dst_ip;
  denied.sport = d.src_port;
  denied.dport = d.dst_port;
  denied.ip_protocol = d.l4_protocol;
  denied.direction = f.from == Side::Guest ? policy::Direction::Egress : policy::Direction::Ingress;
  denied.first_us = f.time_us;
  denied.packets = 1;
  denied.bytes = f.len;
  denied.rule = std::move(rule);
  denied.midstream = midstream;
  metrics_.rule_hit(denied.rule, policy::Action::Deny);
  metrics_.flow(classifier_.app_name({}), Verdict::Deny);
  Event e;
  e.kind = Event::Kind::FlowDenied;
  e.time_us = f.time_us;
  e.l4 = l4_name(d.l4_protocol);
  e.src = d.src_ip;
  e.sport = d.src_port;
  e.dst = d.dst_ip;
  e.dport = d.dst_port;
  e.direction = policy::to_string(denied.direction);
  e.protocol = classifier_.label({});
  e.rule = denied.rule;
  e.reason = reason;
  emit(std::move(e));
  if (d.l4_protocol == IPPROTO_TCP) reset_first(f, d);
  denied_.expire(f.time_us, [this](const DeniedFlow& old) { end_denied(old); });
  denied_.insert(key, std::move(denied), [this](const DeniedFlow& old) { end_denied(old); });
  metrics_.remembered(denied_.size(), cut_.size());
  drop(f);
}

// A reset to the sender of a segment denied at once, as a closed port answers (RFC 793): to
// a SYN, acknowledging it; to a segment with an ACK, at the sequence number it acknowledges.
// The receiver gets none: it never saw the flow, and a forged segment must not make netmon
// reset a connection the receiver may have.
void Engine::reset_first(const Frame& f, const Decoded& d) {
  if (f.time_us >= reset_window_start_us_ + 1000000 || f.time_us < reset_window_start_us_) {
    reset_window_start_us_ = f.time_us;
    resets_in_window_ = 0;
  }
  if (resets_in_window_ >= kMaxFirstPacketResetsPerSecond) {
    metrics_.resets_suppressed();
    return;
  }
  ++resets_in_window_;
  ResetSpec spec;
  spec.src_mac = d.dst_mac;
  spec.dst_mac = d.src_mac;
  spec.src_ip = d.dst_ip;
  spec.dst_ip = d.src_ip;
  spec.src_port = d.dst_port;
  spec.dst_port = d.src_port;
  if (d.tcp_flags & tcp_flag::kAck) {
    spec.seq = d.tcp_ack;
  } else {
    spec.seq = 0;
    spec.ack = tcp_seq_end(d);
  }
  const auto frame = build_tcp_reset(spec);
  if (sink_.send(f.from, frame.data(), frame.size()))
    metrics_.rst_sent();
  else
    metrics_.send_error(f.from);
}

bool Engine::make_room(const Frame& f, const Decoded& d) {
  const auto& limits = policy_->limits;
  if (f.from == Side::Uplink && table_.unanswered_from(d.src_ip) >= limits.max_unanswered_flows_per_source) {
    // The source's own oldest unanswered flow makes room, as the side's does below: a flood
    // that forges an allowed host's address churns only the flows in that host's name, and
    // the host's real SYN is admitted and answered long before the flood's turn comes round.
    limit_event(nullptr, f, &d, "maxUnansweredFlowsPerSource", table_.unanswered_from(d.src_ip),
                limits.max_unanswered_flows_per_source,
                "a network host has this many flows unanswered: its oldest evicted");
    metrics_.evicted_unanswered(f.from);
    remove_flow(*table_.oldest_unanswered_from(d.src_ip));
  }
  if (table_.unanswered(f.from) >= limits.unanswered_flows_per_side()) {
    // The side's oldest unanswered flow makes room: a flood from one side churns only its
    // own share, and a real handshake completes long before its turn comes.
    metrics_.limit_reached("maxUnansweredFlows");
    metrics_.evicted_unanswered(f.from);
    remove_flow(*table_.oldest_unanswered(f.from));
  }
  return true;
}

void Engine::init_flow(Flow& flow, const Frame& f, const Decoded& d) {
  flow.initiator_low = d.src_ip == flow.key->low_ip && d.src_port == flow.key->low_port;
  flow.ip_protocol = d.l4_protocol;
  flow.direction = f.from == Side::Guest ? policy::Direction::Egress : policy::Direction::Ingress;
  flow.vlan_tags = d.vlan_tags;
  for (uint8_t i = 0; i < d.vlan_tags; ++i) flow.vlan_ids[i] = d.vlan_ids[i];
  const bool from_guest = f.from == Side::Guest;
  flow.guest_mac = policy_->guest ? policy_->guest->mac : (from_guest ? d.src_mac : d.dst_mac);
  flow.peer_mac = from_guest ? d.dst_mac : d.src_mac;
}

// A denied-at-once flow's record, as a flow that ended (replay writes it).
void Engine::end_denied(const DeniedFlow& denied) {
  if (!flow_end_hook_) return;
  const FlowKey key = FlowKey::of(denied.src, denied.sport, denied.dst, denied.dport, denied.ip_protocol);
  Flow flow;
  flow.key = &key;
  flow.initiator_low = denied.src == key.low_ip && denied.sport == key.low_port;
  flow.ip_protocol = denied.ip_protocol;
  flow.direction = denied.direction;
  flow.verdict = Verdict::Deny;
  flow.action = policy::Action::Deny;
  flow.rule = rule_name(denied.rule);
  flow.first_us = denied.first_us;
  flow.packets[0] = denied.packets;
  flow.bytes[0] = denied.bytes;
  flow.dropped_packets = denied.packets;
  flow_end_hook_(flow);
}

void Engine::fail_frame(const uint8_t* data, size_t len, uint64_t now_us, const std::string& what) {
  Decoded d;
  if (decode_frame(link_, data, len, len, d) != Malformed::None || d.kind != FrameKind::Ip || d.fragment) return;
  const FlowKey key = FlowKey::of(d.src_ip, d.src_port, d.dst_ip, d.dst_port, d.l4_protocol);
  if (Flow* flow = table_.find(key))
    cut_for_outcome(*flow, "internal_error", "netmon failed on a frame of this flow: " + what, now_us);
}

}  // namespace vitrine::netmon
