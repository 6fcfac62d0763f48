// One TCP connection as both of its hosts see it: the handshake, each direction's sequence
// space, the windows each side offers (with RFC 7323 scaling) and timestamps. netmon is
// inline, so it does not guess how a host reads a segment: a segment the receiving host
// would discard, or could read two ways, is refused here and the engine drops it, so that
// what netmon reads is what the host reads (the normaliser of an inline IPS). Pure: no I/O,
// no clock, no allocation; unit-tested on decoded segments.
#pragma once

#include <cstdint>

#include "vitrine/netmon/decode.h"
#include "vitrine/netmon/normalise.h"

namespace vitrine::netmon {

enum class TcpPhase : uint8_t {
  None,         // nothing accepted yet
  SynSent,      // the initiator's SYN
  SynReceived,  // and the responder's SYN-ACK
  Established,  // and the initiator's ACK of it
  Reset,        // a RST was accepted
  Midstream,    // picked up without its handshake: sequence numbers learnt, not checked
};

struct TcpEndpointState {
  uint32_t isn = 0;         // its SYN's sequence number
  uint32_t next = 0;        // the sequence number after the last it has sent (SYN and FIN count)
  // Where the receiver has all of its bytes up to, at least: the end of what it sent with no
  // hole before it, or what the receiver acknowledged. Below `next` while a hole is open.
  uint32_t in_order = 0;
  uint32_t max_ack = 0;     // the most it has acknowledged of the other's bytes
  uint32_t right_edge = 0;  // the furthest the other may send: max(ack + window) it has offered
  uint32_t max_window = 0;  // the largest window it has offered, scaled
  uint32_t ts_recent = 0;   // its last timestamp value (PAWS)
  uint32_t fin_seq = 0;     // its FIN's sequence number, once it sent one
  int8_t window_scale = -1; // offered in its SYN
  bool sent = false;        // next is meaningful
  bool acked = false;       // max_ack is meaningful
  bool fin = false;
  bool ts_offered = false;
};

struct TcpState {
  TcpEndpointState ep[2];  // 0: the initiator, 1: the responder
  TcpPhase phase = TcpPhase::None;
  bool scaling = false;     // both SYNs offered window scaling
  bool timestamps = false;  // both SYNs offered timestamps

  bool synchronised() const { return phase == TcpPhase::Established || phase == TcpPhase::Midstream; }
  // The sequence number `endpoint`'s stream of bytes starts at (its ISN + 1).
  uint32_t stream_start(uint8_t endpoint) const { return ep[endpoint].isn + 1; }
};

// What the segment changed, for the flow's timeout class and the stream's anchor.
struct TcpResult {
  NormDrop drop = NormDrop::None;
  bool established = false;  // this segment completed the handshake
  bool closed = false;       // FIN both ways, or a RST
};

// Sequence-space "later than", modulo 2^32.
inline bool seq_after(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
inline bool seq_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

// The sequence number after the segment (SYN and FIN each take one).
inline uint32_t tcp_seq_end(const Decoded& d) {
  return d.tcp_seq + d.payload_len + ((d.tcp_flags & tcp_flag::kSyn) ? 1 : 0) +
         ((d.tcp_flags & tcp_flag::kFin) ? 1 : 0);
}

// Judges segment `d` sent by `endpoint` (0 initiator, 1 responder) and, when accepted, updates
// `state`. On a new state a bare SYN from the initiator starts the handshake; any other first
// segment makes the connection Midstream (picked up without its handshake).
TcpResult track_segment(TcpState& state, uint8_t endpoint, const Decoded& d);

}  // namespace vitrine::netmon
