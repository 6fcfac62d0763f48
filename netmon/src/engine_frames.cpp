// What becomes of a flow's frames once the engine has judged them: held while the verdict
// waits (within the hold bounds), forwarded, or dropped; and the resets that end a flow a
// verdict cut, each sent to an endpoint that knows of the flow, at the sequence number it
// expects.
#include <netinet/in.h>

#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/tcp_reset.h"

namespace vitrine::netmon {

void Engine::hold(Flow& flow, const Frame& f, uint8_t endpoint, SeqSpan tcp) {
  const auto& limits = policy_->limits;
  const size_t count = flow.held_count();
  const uint32_t held_bytes = flow.held ? flow.held->bytes : 0;
  // Once an inspector that judges reads the flow, what it waits for is a message, however
  // many segments its sender cut it into.
  const bool message = flow.streams && flow.streams->judged && !flow.streams->recognising;
  const auto what = message ? HoldQueue::For::Message : HoldQueue::For::Verdict;
  switch (hold_.hold(flow, f.data, f.len, other(f.from), endpoint, tcp, f.time_us, limits, what)) {
    case HoldQueue::Result::Held:
      metrics_.held(hold_.frames());
      return;
    case HoldQueue::Result::OverPackets:
      give_up_waiting(flow, "holdPackets", count + 1, limits.hold_packets, f.time_us);
      break;
    case HoldQueue::Result::OverBytes:
      give_up_waiting(flow, "holdBytes", held_bytes + f.len, limits.hold_bytes, f.time_us);
      break;
    case HoldQueue::Result::OverSide:
      // The flows of this frame's opener hold all they may: this one frame goes (TCP sends
      // it again); the flow's verdict is not hurried by another side's flood.
      limit_event(&flow, f, nullptr, "heldBytesPerSide", kMaxHeldBytesPerSide, kMaxHeldBytesPerSide,
                  "frames held by flows of one side reached their bound: frame dropped");
      ++flow.dropped_packets;
      drop(f);
      return;
  }
  // The bound decided the verdict: this frame follows the held ones.
  if (flow.verdict == Verdict::Allow) {
    forward(f);
    note_forwarded(flow, endpoint, tcp);
  } else {
    ++flow.dropped_packets;
    drop(f);
  }
}

void Engine::release_held(Flow& flow, bool pass) {
  if (!flow.held) return;
  for (const HeldFrame& h : hold_.take(flow)) {
    const Frame f{h.bytes.data(), h.bytes.size(), other(h.to), 0};
    if (pass) {
      forward(f);
      note_forwarded(flow, h.endpoint, h.tcp);
    } else {
      ++flow.dropped_packets;
      drop(f);
    }
  }
  metrics_.holding(hold_.frames());
}

void Engine::send_resets(Flow& flow) {
  if (flow.ip_protocol != IPPROTO_TCP || flow.tcp.phase == TcpPhase::Reset) return;
  // Endpoint 0 opened the flow; the guest is endpoint 0 of egress flows.
  const uint8_t guest = flow.direction == policy::Direction::Egress ? 0 : 1;
  const IpAddr ip[2] = {flow.initiator_ip(), flow.responder_ip()};
  const uint16_t port[2] = {flow.initiator_port(), flow.responder_port()};
  const MacAddr mac[2] = {guest == 0 ? flow.guest_mac : flow.peer_mac,
                          guest == 0 ? flow.peer_mac : flow.guest_mac};
  const Side side_of[2] = {guest == 0 ? Side::Guest : Side::Uplink,
                           guest == 0 ? Side::Uplink : Side::Guest};

  // A reset "from" one endpoint to the other. The receiver accepts it when its sequence
  // number is exactly what the receiver expects next (what was forwarded from the sender), or,
  // before anything was forwarded, when it acknowledges what the receiver sent (its SYN).
  auto reset_to = [&](uint8_t to, uint32_t seq) {
    const uint8_t from = 1 - to;
    ResetSpec spec;
    spec.src_mac = mac[from];
    spec.dst_mac = mac[to];
    spec.src_ip = ip[from];
    spec.dst_ip = ip[to];
    spec.src_port = port[from];
    spec.dst_port = port[to];
    spec.seq = seq;
    if (flow.tcp.ep[to].sent) spec.ack = flow.tcp.ep[to].next;
    const auto frame = build_tcp_reset(spec);
    if (sink_.send(side_of[to], frame.data(), frame.size()))
      metrics_.rst_sent();
    else
      metrics_.send_error(side_of[to]);
  };
  // Only an endpoint that knows of the flow (it sent, or received, part of it) gets a reset.
  for (uint8_t e = 0; e < 2; ++e) {
    if (!flow.tcp.ep[e].sent && !flow.forwarded_known[1 - e]) continue;
    const uint8_t from = 1 - e;
    if (!flow.forwarded_known[from]) {
      reset_to(e, 0);
      continue;
    }
    // With bytes forwarded ahead of a hole, the receiver expects the hole (still open) or the
    // end of them (filled since): one of the two resets is exact, the other draws an ACK.
    reset_to(e, flow.forwarded_contig[from]);
    if (flow.forwarded_next[from] != flow.forwarded_contig[from]) reset_to(e, flow.forwarded_next[from]);
  }
  flow.tcp.phase = TcpPhase::Reset;
}

void Engine::note_forwarded(Flow& flow, uint8_t endpoint, SeqSpan tcp) {
  if (flow.ip_protocol != IPPROTO_TCP) return;
  if (!flow.forwarded_known[endpoint]) {
    flow.forwarded_next[endpoint] = flow.forwarded_contig[endpoint] = tcp.end;
    flow.forwarded_known[endpoint] = true;
    return;
  }
  if (seq_after(tcp.end, flow.forwarded_next[endpoint])) flow.forwarded_next[endpoint] = tcp.end;
  // In order if it starts at or before what was forwarded in order (a hole before it: not).
  if (!seq_after(tcp.seq, flow.forwarded_contig[endpoint]) && seq_after(tcp.end, flow.forwarded_contig[endpoint]))
    flow.forwarded_contig[endpoint] = tcp.end;
}

void Engine::forward(const Frame& f) {
  const Side to = other(f.from);
  if (!sink_.send(to, f.data, f.len)) metrics_.send_error(to);
  metrics_.packet(f.from, true, f.len);
}

}  // namespace vitrine::netmon
