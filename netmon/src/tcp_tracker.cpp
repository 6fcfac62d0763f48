#include "vitrine/netmon/tcp_tracker.h"

#include <algorithm>

namespace vitrine::netmon {

namespace {

using namespace tcp_flag;

// Linux discards a segment whose timestamp is more than one tick older than the last
// (tcp_paws_discard, TCP_PAWS_WINDOW): one tick of reordering is not an attack.
constexpr uint32_t kPawsWindow = 1;

bool has(const Decoded& d, uint8_t flag) { return (d.tcp_flags & flag) != 0; }

// Flag combinations no stack sends and stacks read differently: SYN with FIN or RST, RST
// with FIN, and anything but a first SYN or a RST without ACK (null, FIN, XMAS probes).
bool flags_valid(const Decoded& d) {
  if (has(d, kSyn) && (has(d, kFin) || has(d, kRst))) return false;
  if (has(d, kRst) && has(d, kFin)) return false;
  return has(d, kSyn) || has(d, kAck) || has(d, kRst);
}

void note_sent(TcpEndpointState& me, const Decoded& d) {
  const uint32_t end = tcp_seq_end(d);
  if (!me.sent || seq_after(end, me.next)) me.next = end;
  if (!me.sent || (!seq_after(d.tcp_seq, me.in_order) && seq_after(end, me.in_order))) me.in_order = end;
  me.sent = true;
  if (has(d, kFin) && !me.fin) {
    me.fin = true;
    me.fin_seq = d.tcp_seq + d.payload_len;
  }
}

// What `me` acknowledges and offers: the window is scaled only once both SYNs offered it,
// and never in a SYN (RFC 7323 §2.2).
void note_ack(TcpState& s, TcpEndpointState& me, const Decoded& d) {
  if (!has(d, kAck)) return;
  if (!me.acked || seq_after(d.tcp_ack, me.max_ack)) me.max_ack = d.tcp_ack;
  me.acked = true;
  const unsigned shift = (s.scaling && !has(d, kSyn) && me.window_scale > 0) ? static_cast<unsigned>(me.window_scale) : 0;
  const uint32_t window = uint32_t{d.tcp_window} << shift;
  me.max_window = std::max(me.max_window, window);
  const uint32_t right = d.tcp_ack + window;
  if (seq_after(right, me.right_edge) || me.right_edge == 0) me.right_edge = right;
}

void note_timestamp(TcpEndpointState& me, const Decoded& d) {
  if (d.tcp_options.has_timestamp && (seq_after(d.tcp_options.ts_val, me.ts_recent) || !me.sent))
    me.ts_recent = d.tcp_options.ts_val;
}

// A RST is taken only at exactly the receiver's next expected sequence number: the end of
// what the sender has sent when no hole is open in it, or what the receiver has acknowledged
// (RFC 5961 §3). One at the end of bytes sent past a hole is ahead of the receiver's next,
// and one merely in the window would make a host send a challenge ACK (or, like XP, close):
// either way netmon cannot know, so it is dropped and both keep the connection.
bool rst_exact(const TcpEndpointState& me, const TcpEndpointState& peer, uint32_t seq) {
  return (me.sent && seq == me.next && me.in_order == me.next) || (peer.acked && seq == peer.max_ack);
}

// An accepted segment of a synchronised connection: what it sent, acknowledged and offered.
TcpResult take(TcpState& s, TcpEndpointState& me, TcpEndpointState& peer, const Decoded& d) {
  note_timestamp(me, d);
  note_sent(me, d);
  note_ack(s, me, d);
  // What `me` acknowledged it has, in order: a hole in the peer's bytes is closed up to there.
  if (me.acked && peer.sent && seq_after(me.max_ack, peer.in_order)) peer.in_order = me.max_ack;
  TcpResult r;
  r.closed = me.fin && peer.fin;
  return r;
}

TcpResult reset(TcpState& s) {
  s.phase = TcpPhase::Reset;
  TcpResult r;
  r.closed = true;
  return r;
}

TcpResult refuse(NormDrop why) {
  TcpResult r;
  r.drop = why;
  return r;
}

TcpResult start(TcpState& s, uint8_t e, const Decoded& d) {
  TcpEndpointState& me = s.ep[e];
  if (e == 0 && has(d, kSyn) && !has(d, kAck)) {
    me = TcpEndpointState{};
    me.isn = d.tcp_seq;
    me.window_scale = d.tcp_options.window_scale;
    me.ts_offered = d.tcp_options.has_timestamp;
    me.max_window = d.tcp_window;  // unscaled; the responder's ISN will anchor it
    note_timestamp(me, d);
    note_sent(me, d);
    s.phase = TcpPhase::SynSent;
    return {};
  }
  s.phase = TcpPhase::Midstream;
  note_timestamp(me, d);
  note_sent(me, d);
  note_ack(s, me, d);
  if (has(d, kRst)) return reset(s);
  return {};
}

TcpResult syn_sent(TcpState& s, uint8_t e, const Decoded& d) {
  TcpEndpointState& me = s.ep[e];
  TcpEndpointState& peer = s.ep[1 - e];
  if (e == 0) {
    if (has(d, kSyn) && !has(d, kAck)) return start(s, 0, d);  // a retransmission, or a new ISN
    if (has(d, kRst)) return d.tcp_seq == me.next ? reset(s) : refuse(NormDrop::RstNotExact);
    return refuse(NormDrop::BeforeHandshake);
  }
  if (has(d, kRst)) {  // "connection refused": valid when it acknowledges the SYN (RFC 793)
    return has(d, kAck) && d.tcp_ack == peer.next ? reset(s) : refuse(NormDrop::RstNotExact);
  }
  if (!has(d, kSyn) || !has(d, kAck)) return refuse(NormDrop::BeforeHandshake);
  if (d.tcp_ack != peer.next) return refuse(NormDrop::BadSynAck);
  me = TcpEndpointState{};
  me.isn = d.tcp_seq;
  me.window_scale = d.tcp_options.window_scale;
  me.ts_offered = d.tcp_options.has_timestamp;
  s.scaling = peer.window_scale >= 0 && me.window_scale >= 0;
  s.timestamps = peer.ts_offered && me.ts_offered;
  note_timestamp(me, d);
  note_sent(me, d);
  note_ack(s, me, d);
  // The initiator's SYN offered its window before it knew where the responder's bytes start.
  peer.right_edge = me.isn + 1 + peer.max_window;
  s.phase = TcpPhase::SynReceived;
  return {};
}

TcpResult syn_received(TcpState& s, uint8_t e, const Decoded& d) {
  TcpEndpointState& me = s.ep[e];
  TcpEndpointState& peer = s.ep[1 - e];
  if (has(d, kRst)) return rst_exact(me, peer, d.tcp_seq) ? reset(s) : refuse(NormDrop::RstNotExact);
  if (e == 1) {  // only the SYN-ACK again, unchanged
    if (has(d, kSyn) && has(d, kAck) && d.tcp_seq == me.isn && d.tcp_ack == peer.next) return {};
    return refuse(has(d, kSyn) ? NormDrop::BadSynAck : NormDrop::BeforeHandshake);
  }
  if (has(d, kSyn)) {
    return !has(d, kAck) && d.tcp_seq == me.isn ? TcpResult{} : refuse(NormDrop::SynAfterHandshake);
  }
  if (!has(d, kAck)) return refuse(NormDrop::InvalidFlags);
  if (d.tcp_ack != peer.next) return refuse(NormDrop::BadHandshakeAck);
  s.phase = TcpPhase::Established;
  return {};  // the caller goes on to judge it as a synchronised segment (it may carry data)
}

TcpResult synchronised(TcpState& s, uint8_t e, const Decoded& d) {
  TcpEndpointState& me = s.ep[e];
  TcpEndpointState& peer = s.ep[1 - e];
  if (has(d, kSyn)) {
    // The responder's SYN-ACK again (the handshake's last ACK was lost beyond netmon): the
    // initiator only answers it with an ACK. Any other SYN is a new connection's or a forgery.
    const bool synack_again = e == 1 && has(d, kAck) && d.tcp_seq == me.isn && d.tcp_ack == peer.isn + 1;
    return synack_again ? TcpResult{} : refuse(NormDrop::SynAfterHandshake);
  }
  if (has(d, kRst)) return rst_exact(me, peer, d.tcp_seq) ? reset(s) : refuse(NormDrop::RstNotExact);
  if (!has(d, kAck)) return refuse(NormDrop::InvalidFlags);
  // What it acknowledges: never beyond what the other sent, never further behind than the
  // largest window it has offered (Linux's and Windows' check on old ACKs).
  if (seq_after(d.tcp_ack, peer.next)) return refuse(NormDrop::AckUnsent);
  if (me.acked && seq_before(d.tcp_ack, me.max_ack - std::max<uint32_t>(me.max_window, 1)))
    return refuse(NormDrop::OutsideWindow);
  // Where it lies: not past the receiver's right edge, not behind what the receiver has
  // acknowledged (one byte behind is a keepalive).
  const uint32_t data_end = d.tcp_seq + d.payload_len;
  if (seq_after(data_end, peer.right_edge)) return refuse(NormDrop::OutsideWindow);
  if (peer.acked && seq_before(tcp_seq_end(d), peer.max_ack - 1)) return refuse(NormDrop::OutsideWindow);
  if (s.timestamps) {
    if (!d.tcp_options.has_timestamp) return refuse(NormDrop::TimestampMissing);
    if (me.ts_recent - d.tcp_options.ts_val > kPawsWindow && seq_before(d.tcp_options.ts_val, me.ts_recent))
      return refuse(NormDrop::Paws);
  }
  if (me.fin && d.payload_len > 0 && seq_after(data_end, me.fin_seq)) return refuse(NormDrop::AfterFin);
  return take(s, me, peer, d);
}

// A connection picked up midway: its windows' scale is unknown, so only flags and RSTs are
// held to the rules; sequence numbers are learnt.
TcpResult midstream(TcpState& s, uint8_t e, const Decoded& d) {
  TcpEndpointState& me = s.ep[e];
  TcpEndpointState& peer = s.ep[1 - e];
  if (has(d, kSyn)) return refuse(NormDrop::SynAfterHandshake);
  if (has(d, kRst)) {
    if (!me.sent || rst_exact(me, peer, d.tcp_seq)) return reset(s);
    return refuse(NormDrop::RstNotExact);
  }
  if (!has(d, kAck)) return refuse(NormDrop::InvalidFlags);
  if (me.fin && d.payload_len > 0 && seq_after(d.tcp_seq + d.payload_len, me.fin_seq)) return refuse(NormDrop::AfterFin);
  return take(s, me, peer, d);
}

}  // namespace

TcpResult track_segment(TcpState& s, uint8_t e, const Decoded& d) {
  if (!flags_valid(d)) return refuse(NormDrop::InvalidFlags);
  if (d.tcp_options.bad) return refuse(NormDrop::BadOptions);
  if (has(d, kSyn) && d.payload_len > 0) return refuse(NormDrop::DataInSyn);
  switch (s.phase) {
    case TcpPhase::None: return start(s, e, d);
    case TcpPhase::SynSent: return syn_sent(s, e, d);
    case TcpPhase::SynReceived: {
      const TcpPhase before = s.phase;
      TcpResult r = syn_received(s, e, d);
      if (r.drop != NormDrop::None || s.phase != TcpPhase::Established || before == s.phase) return r;
      r = synchronised(s, e, d);
      if (r.drop != NormDrop::None) {
        s.phase = before;  // the completing ACK was refused after all: still half open
        return r;
      }
      r.established = true;
      return r;
    }
    case TcpPhase::Established: return synchronised(s, e, d);
    case TcpPhase::Midstream: return midstream(s, e, d);
    case TcpPhase::Reset: return refuse(NormDrop::AfterReset);
  }
  return refuse(NormDrop::InvalidFlags);
}

}  // namespace vitrine::netmon
