// The engine's frame path and verdicts. Admission of new flows is in engine_admission.cpp,
// TCP streams (the normaliser's part, recognition, inspection) in engine_streams.cpp, events
// in engine_events.cpp, what becomes of a flow's frames (held, forwarded, reset) in
// engine_frames.cpp.
#include "vitrine/netmon/engine.h"

#include "vitrine/common/sha256.h"

#include <netinet/in.h>

#include <algorithm>
#include <chrono>

#include "vitrine/netmon/checksum.h"

namespace vitrine::netmon {

namespace {

bool is_bare_syn(const Decoded& d) {
  return d.l4_protocol == IPPROTO_TCP && (d.tcp_flags & tcp_flag::kSyn) &&
         !(d.tcp_flags & tcp_flag::kAck) && d.payload_len == 0;
}

// What the policy is asked about a flow; the L7 protocol only once payload inspection named it.
policy::FlowFacts facts_of(const Flow& flow) {
  policy::FlowFacts facts;
  facts.direction = flow.direction;
  facts.ip_protocol = flow.ip_protocol;
  facts.peer = flow.direction == policy::Direction::Egress ? flow.responder_ip() : flow.initiator_ip();
  facts.service_port = flow.responder_port();
  if (flow.classification.by_inspection) {
    facts.l7 = flow.classification.protocol;
    facts.l7->risks = flow.classification.risks;
    // nDPI names a protocol once it has read the message that carries its attributes; what
    // it reads later (the server's TLS hello) re-judges the flow (rejudge_allowed).
    facts.l7->attributes = flow.classification.attributes();
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
               FrameSink& sink, EventSink& events, NetmonMetrics& metrics, LinkType link,
               EngineOptions options)
    : policy_(std::move(policy)),
      classifier_(classifier),
      responder_readers_(responder_readers()),
      sink_(sink),
      events_(events),
      metrics_(metrics),
      link_(link),
      options_(options),
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
  now_us_ = time_us;
  const Frame f{data, caplen, from ? *from : infer_side(d), time_us};

  if (bad != Malformed::None) {
    metrics_.malformed(bad);
    if (policy_->outcomes.on_malformed == policy::Action::Allow)
      forward(f);
    else
      drop(f);
  } else {
    const L2Decision l2 = police_layer2(*policy_, f.from, d);
    if (l2.dhcp != DhcpOutcome::None) metrics_.dhcp(f.from, l2.dhcp);
    switch (l2.result) {
      case L2Result::Drop:
        metrics_.layer2_drop(l2.reason);
        // Traffic for other hosts is the LAN's business, not a violation by the guest.
        if (l2.reason != L2Drop::NotForGuest) layer2_violation(f, d, l2.reason);
        drop(f);
        break;
      case L2Result::Forward:
        if (d.kind != FrameKind::Ip || checks_pass(f, d)) forward(f);
        break;
      case L2Result::Inspect:
        if (!checks_pass(f, d)) break;
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

// What the receiving host checks of any IP frame before it reads it.
bool Engine::checks_pass(const Frame& f, const Decoded& d) {
  NormDrop reason = NormDrop::None;
  if (d.ip_source_route) {
    reason = NormDrop::IpSourceRoute;
  } else if (options_.verify_checksums) {
    switch (verify_checksums(d)) {
      case ChecksumResult::BadIp: reason = NormDrop::BadIpChecksum; break;
      case ChecksumResult::BadL4: reason = NormDrop::BadL4Checksum; break;
      case ChecksumResult::Ok:
      case ChecksumResult::Unverifiable: break;
    }
  }
  if (reason == NormDrop::None) return true;
  if (reason != NormDrop::IpSourceRoute) ++checksum_drops_;
  metrics_.normaliser_drop(reason);
  drop(f);
  return false;
}

void Engine::handle_ip(const Frame& f, const Decoded& d) {
  Flow* flow = admit(f, d);
  if (flow == nullptr) return;
  const uint8_t ep = flow->endpoint_of(d.src_ip, d.src_port);
  ++flow->packets[ep];
  flow->bytes[ep] += f.len;
  if (flow->verdict == Verdict::Deny) {
    ++flow->dropped_packets;
    drop(f);
    return;
  }
  if (d.vlan_tags != flow->vlan_tags || !std::equal(d.vlan_ids, d.vlan_ids + d.vlan_tags, flow->vlan_ids)) {
    normaliser_drop(*flow, f, NormDrop::VlanMismatch);
    return;
  }
  if (flow->ip_protocol == IPPROTO_TCP && !normalise_tcp(*flow, f, d, ep)) return;
  if (ep == 1 && flow->ip_protocol != IPPROTO_TCP && !flow->answered) {
    table_.answered(*flow);
    ++lane_generation_;
  }
  table_.touch(*flow, timeout_class_of(*flow), f.time_us);

  const uint32_t attributes_before = flow->classification.attributes_version;
  const uint64_t risks_before = flow->classification.risks;
  const bool stream_bytes = flow->ip_protocol == IPPROTO_TCP && d.payload_len > 0 && !(d.tcp_flags & tcp_flag::kRst);
  if (stream_bytes) take_segment(*flow, d, ep, f.time_us);
  classify(*flow, f, d, ep);
  if (stream_bytes) inspect_segment(*flow, f, d, ep);
  const bool inspected = flow->streams && flow->streams->inspector;
  if (flow->verdict == Verdict::Pending) resolve_pending(*flow, f.time_us);
  else if (!inspected && flow->classification.attributes_version != attributes_before)
    rejudge_allowed(*flow, f.time_us, "judged again on what the flow said after its verdict");
  else if (flow->classification.risks != risks_before)
    rejudge_allowed(*flow, f.time_us, "judged again on a risk the classifier reported after its verdict");

  const SeqSpan seq = flow->ip_protocol == IPPROTO_TCP ? SeqSpan{d.tcp_seq, tcp_seq_end(d)} : SeqSpan{};
  if (flow->verdict == Verdict::Deny) {
    ++flow->dropped_packets;
    drop(f);
    return;
  }
  if (waits(*flow, d, ep)) {
    // Packets without payload (handshakes, bare ACKs) carry nothing to judge: they pass, so
    // that the protocol has a chance to show itself. Payload waits.
    if (d.payload_len == 0) {
      forward(f);
      note_forwarded(*flow, ep, seq);
    } else {
      hold(*flow, f, ep, seq);
    }
    return;
  }
  forward(f);
  note_forwarded(*flow, ep, seq);
  account(*flow);
}

bool Engine::waits(const Flow& flow, const Decoded& d, uint8_t endpoint) const {
  if (flow.verdict == Verdict::Pending) return true;
  if (endpoint != 0 || d.payload_len == 0 || !flow.streams) return false;
  // The initiator's bytes wait until they show which inspector, if any, reads the flow, and
  // then, where its messages are judged, until the message they belong to is whole: nothing
  // of a message the policy refuses reaches the receiver.
  return flow.streams->recognising || flow.streams->holds_message(flow.classification.attributes_pending);
}

TimeoutClass Engine::timeout_class_of(const Flow& flow) const {
  switch (flow.ip_protocol) {
    case IPPROTO_TCP: {
      const TcpState& t = flow.tcp;
      if (flow.verdict == Verdict::Deny || t.phase == TcpPhase::Reset || (t.ep[0].fin && t.ep[1].fin))
        return TimeoutClass::TcpClosed;
      if (t.phase == TcpPhase::Established || t.phase == TcpPhase::Midstream) return TimeoutClass::Tcp;
      return TimeoutClass::TcpHalfOpen;
    }
    case IPPROTO_UDP: return TimeoutClass::Udp;
    default: return TimeoutClass::Other;
  }
}

void Engine::classify(Flow& flow, const Frame& f, const Decoded& d, uint8_t endpoint) {
  Classification& c = flow.classification;
  if (endpoint == 1 && flow.ip_protocol == IPPROTO_TCP)
    for (const InspectorRegistration* reg : responder_readers_) reg->reads_responder(c, d.payload, d.payload_len);
  if (c.completed) return;
  // nDPI's per-flow state is large; a bare SYN tells it nothing, and a flood of them must
  // not cost more than the flow records themselves.
  if (!c.state && is_bare_syn(d)) return;
  const uint32_t budget = flow.ip_protocol == IPPROTO_UDP ? policy_->limits.dpi_max_packets_udp
                                                          : policy_->limits.dpi_max_packets_tcp;
  classifier_.process(c, d.l3, d.l3_len, f.time_us / 1000, budget);
  if (c.completed && c.packets >= budget && !c.by_inspection) {
    const char* limit = flow.ip_protocol == IPPROTO_UDP ? "dpiMaxPacketsUdp" : "dpiMaxPacketsTcp";
    limit_event(&flow, f, &d, limit, c.packets, budget, "nDPI could not name the protocol within its packet budget");
  }
}

void Engine::resolve_pending(Flow& flow, uint64_t now_us) {
  const Classification& c = flow.classification;
  if (!c.by_inspection && !c.completed) return;
  if (!c.by_inspection) {
    // nDPI gave up, or only guessed from the ports: no rule that names a protocol can be
    // trusted to match, so the policy's declared outcome applies.
    resolve_undetermined(flow, "classifierGaveUp", c.packets, 0, now_us, "onClassifierGaveUp",
                         policy_->outcomes.classifier_gave_up());
    return;
  }
  const policy::Decision d = policy::evaluate(*policy_, facts_of(flow));
  if (d.definitive) apply(flow, d, now_us);  // otherwise held, within the hold bounds
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
    if (*flow.rule == policy_->rules[d.rule].name) return false;  // already recorded
    metrics_.would_deny(policy_->rules[d.rule].name);
    flow.rule = rule_name(policy_->rules[d.rule].name);
    emit(flow_event(flow, Event::Kind::FlowWouldDeny, now_us,
                    "monitor mode: enforced, this rule would deny the flow (" + reason + ")"));
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
    flow.rule = rule_name(rule.name);
    emit(flow_event(flow, Event::Kind::FlowWouldDeny, now_us, "monitor mode: enforced, this rule would deny the flow"));
    apply(flow, policy::Action::Allow, rule.name, "monitor", now_us);
    return;
  }
  apply(flow, decision.action, rule.name, "policy", now_us);
}

void Engine::give_up_waiting(Flow& flow, const char* limit, uint64_t value, uint64_t limit_value, uint64_t now_us) {
  const bool recognising = flow.streams && flow.streams->recognising;
  if (recognising) end_recognition(flow);
  const policy::Action outcome = policy_->outcomes.on_undetermined;
  if (flow.verdict == Verdict::Pending) {
    resolve_undetermined(flow, limit, value, limit_value, now_us, "onUndetermined", outcome);
    return;
  }
  if (flow.verdict == Verdict::Allow) {
    // Allowed, but its first bytes never showed whether an inspector must read it, or the
    // message being held did not end within the hold bounds.
    Frame none{nullptr, 0, flow.opener, now_us};
    limit_event(&flow, none, nullptr, limit, value, limit_value,
                std::string(recognising ? "protocol not recognised in time" : "a message not whole within the hold bounds") +
                    ": onUndetermined is " + policy::to_string(outcome));
    if (outcome == policy::Action::Deny) {
      apply(flow, policy::Action::Deny, "onUndetermined", limit, now_us);
      return;
    }
    if (!recognising && flow.streams) flow.streams->message_unheld = true;  // the rest of it passes as it comes
  }
  release_held(flow, flow.verdict == Verdict::Allow);
}

void Engine::resolve_undetermined(Flow& flow, const char* limit, uint64_t value, uint64_t limit_value,
                                  uint64_t now_us, const char* outcome, policy::Action action) {
  Frame none{nullptr, 0, flow.opener, now_us};
  limit_event(&flow, none, nullptr, limit, value, limit_value,
              std::string("verdict still pending: ") + outcome + " is " + policy::to_string(action));
  apply(flow, action, outcome, limit, now_us);
}

void Engine::apply(Flow& flow, policy::Action action, std::string rule, std::string reason, uint64_t now_us) {
  ++lane_generation_;
  flow.verdict = action == policy::Action::Deny ? Verdict::Deny : Verdict::Allow;
  flow.action = action;
  flow.rule = rule_name(std::move(rule));
  metrics_.rule_hit(*flow.rule, action);
  if (action == policy::Action::Deny) {
    emit(flow_event(flow, Event::Kind::FlowDenied, now_us, reason));
    release_held(flow, false);
    send_resets(flow);
    // Nothing more of this flow will be looked at: free nDPI's state and the streams now.
    classifier_.give_up(flow.classification);
    flow.streams.reset();
    account(flow);
    table_.touch(flow, timeout_class_of(flow), flow.last_us);
    return;
  }
  if (action == policy::Action::Alert) emit(flow_event(flow, Event::Kind::FlowAlert, now_us, reason));
  // Frames that wait for the flow's protocol to be recognised go on waiting.
  if (!(flow.streams && flow.streams->recognising)) release_held(flow, true);
  account(flow);
}

void Engine::account(Flow& flow) {
  if (flow.accounted || flow.verdict == Verdict::Pending || !flow.classification.completed)
    return;
  flow.accounted = true;
  metrics_.flow(classifier_.app_name(flow.classification.protocol), flow.verdict);
}

void Engine::end_flow(Flow& flow, bool remember_cut) {
  if (flow.answered && flow.verdict == Verdict::Allow) ++lane_generation_;
  if (flow.held) release_held(flow, false);
  classifier_.give_up(flow.classification);
  if (!flow.accounted) {
    flow.accounted = true;
    metrics_.flow(classifier_.app_name(flow.classification.protocol), flow.verdict);
  }
  if (flow.verdict == Verdict::Deny && remember_cut) {
    // Cut after it began: a segment that continues it must not open a fresh flow.
    DeniedFlow cut;
    cut.first_us = flow.last_us;
    cut.rule = *flow.rule;
    cut_.insert(*flow.key, std::move(cut), [](const DeniedFlow&) {});
  }
  if (flow_end_hook_) flow_end_hook_(flow);
}

void Engine::remove_flow(Flow& flow) {
  end_flow(flow);
  table_.remove(flow);
}

void Engine::on_tick(uint64_t now_us) {
  now_us_ = now_us;
  while (Flow* flow = hold_.due(now_us))
    give_up_waiting(*flow, "holdMilliseconds", (now_us - flow->first_us) / 1000, policy_->limits.hold_ms, now_us);
  // Timeouts are seconds long: looking for them once a millisecond is exact enough, and replay
  // ticks at every frame.
  if (now_us >= last_expiry_us_ && now_us < last_expiry_us_ + kExpiryCheckUs) return;
  last_expiry_us_ = now_us;
  const size_t before = table_.size();
  table_.expire(now_us, [this](Flow& flow) {
    end_flow(flow);
    metrics_.evicted_idle();
  });
  if (table_.size() != before) metrics_.table_size(table_.size());
  const size_t denied_before = denied_.size(), cut_before = cut_.size();
  denied_.expire(now_us, [this](const DeniedFlow& d) { end_denied(d); });
  cut_.expire(now_us, [](const DeniedFlow&) {});
  if (denied_.size() != denied_before || cut_.size() != cut_before || table_.size() != before) {
    metrics_.remembered(denied_.size(), cut_.size());
    metrics_.unanswered(Side::Guest, table_.unanswered(Side::Guest));
    metrics_.unanswered(Side::Uplink, table_.unanswered(Side::Uplink));
  }
}

std::vector<LaneFlow> Engine::lane_flows(size_t max) const {
  std::vector<std::pair<uint64_t, LaneFlow>> found;
  table_.for_each([&](const Flow& flow) {
    if (flow.verdict != Verdict::Allow || !flow.answered) return;
    if (flow.ip_protocol != IPPROTO_TCP && flow.ip_protocol != IPPROTO_UDP) return;
    const bool egress = flow.direction == policy::Direction::Egress;
    LaneFlow lane;
    lane.ip_protocol = flow.ip_protocol;
    lane.guest_port = egress ? flow.initiator_port() : flow.responder_port();
    lane.peer_ip = egress ? flow.responder_ip() : flow.initiator_ip();
    lane.peer_port = egress ? flow.responder_port() : flow.initiator_port();
    found.emplace_back(flow.last_us, lane);
  });
  const size_t n = std::min(max, found.size());
  std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n), found.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<LaneFlow> out;
  for (size_t i = 0; i < n; ++i) out.push_back(found[i].second);
  return out;
}

Engine::ReloadResult Engine::replace_policy(std::shared_ptr<const policy::Policy> next, uint64_t now_us) {
  policy_ = std::move(next);
  // Flows denied at their first packet were denied by the old policy: the new one judges
  // their next packet afresh.
  denied_.drain([this](const DeniedFlow& d) { end_denied(d); });
  // A cut UDP or ICMP flow has no connection the cut ended (a TCP one was reset at both ends,
  // and starts again with a handshake): under the new policy its next packet is judged afresh,
  // or a reload undone would leave the cabinet's syslog or NTP cut for the cut's lifetime.
  std::vector<Flow*> cut_datagrams;
  table_.for_each([&](Flow& flow) {
    if (flow.verdict == Verdict::Deny && flow.ip_protocol != IPPROTO_TCP) cut_datagrams.push_back(&flow);
  });
  for (Flow* flow : cut_datagrams) {
    end_flow(*flow, false);
    table_.remove(*flow);
  }
  cut_.forget_if([](const FlowKey& key) { return key.ip_protocol != IPPROTO_TCP; });
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
  hold_.clear();
  denied_.drain([this](const DeniedFlow& d) { end_denied(d); });
  cut_.drain([](const DeniedFlow&) {});
  metrics_.table_size(0);
  metrics_.remembered(0, 0);
}

}  // namespace vitrine::netmon
