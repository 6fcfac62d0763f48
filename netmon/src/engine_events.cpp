// The engine's events: built from a flow (oriented as its initiator sent it) or from a frame,
// and rate-limited, so that a flood of violations is counted rather than written.
#include "vitrine/netmon/engine.h"

namespace vitrine::netmon {

Event Engine::flow_event(const Flow& flow, Event::Kind kind, uint64_t time_us, const std::string& reason) const {
  Event e;
  e.kind = kind;
  e.time_us = time_us;
  e.l4 = l4_name(flow.ip_protocol);
  e.src = flow.initiator_ip();
  e.sport = flow.initiator_port();
  e.dst = flow.responder_ip();
  e.dport = flow.responder_port();
  e.direction = policy::to_string(flow.direction);
  e.protocol = classifier_.label(flow.classification.protocol);
  e.attributes = flow.classification.reported_attributes();
  e.patient_ref = flow.classification.patient_ref();
  e.rule = *flow.rule;
  e.reason = reason;
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

// A named limit reached: counted, and recorded with the flow it hit (or the frame's 5-tuple
// when no flow was made for it).
void Engine::limit_event(const Flow* flow, const Frame& f, const Decoded* d, const char* limit, uint64_t value,
                         uint64_t limit_value, std::string reason) {
  metrics_.limit_reached(limit);
  Event e;
  if (flow != nullptr) {
    e = flow_event(*flow, Event::Kind::LimitReached, f.time_us, reason);
  } else {
    e.kind = Event::Kind::LimitReached;
    e.time_us = f.time_us;
    e.reason = std::move(reason);
    if (d != nullptr) {
      e.l4 = l4_name(d->l4_protocol);
      e.src = d->src_ip;
      e.sport = d->src_port;
      e.dst = d->dst_ip;
      e.dport = d->dst_port;
      e.direction = f.from == Side::Guest ? "egress" : "ingress";
    }
  }
  e.limit = limit;
  e.value = value;
  e.limit_value = limit_value;
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
  e.time_us = static_cast<uint64_t>(static_cast<int64_t>(e.time_us) + wall_offset_us_);  // what a reader dates by
  if (!events_.emit(e)) metrics_.event_write_error();
}

}  // namespace vitrine::netmon
