// Why the normaliser dropped a frame that decoded and that the policy might have allowed: the
// host it is addressed to would discard it, or could read it two ways, so netmon, inline,
// drops it rather than judge bytes the host does not read (DESIGN.md, "One view of the
// stream"). Names are metric label values of vitrine_netmon_normaliser_dropped_packets_total,
// so the set is fixed.
#pragma once

#include <cstdint>

namespace vitrine::netmon {

enum class NormDrop : uint8_t {
  None,
  // Any IP frame.
  BadIpChecksum,
  BadL4Checksum,        // TCP, UDP, ICMP over its pseudo-header
  IpSourceRoute,        // loose or strict source route: XP SP2 drops them
  VlanMismatch,         // another 802.1Q tag stack than the flow's first frame had
  NoConnection,         // a TCP segment (a RST, say) of no connection netmon knows, that opens none
  CutFlow,              // a segment of a flow netmon cut, after the flow left the table
  // TCP (tcp_tracker.h).
  InvalidFlags,         // SYN with FIN or RST, RST with FIN, no flags, or no ACK where one is due
  BadOptions,           // an option list a host could read two ways
  DataInSyn,            // payload on a SYN: XP does not do TCP Fast Open, the host ignores it
  BeforeHandshake,      // data, or an ACK, before the handshake is complete
  BadSynAck,            // a SYN-ACK that does not acknowledge the SYN
  BadHandshakeAck,      // the handshake's last ACK does not acknowledge the SYN-ACK
  SynAfterHandshake,    // a SYN on a connection already synchronised (RFC 5961 §4)
  RstNotExact,          // a RST not exactly at the next expected sequence number (RFC 5961 §3)
  AckUnsent,            // acknowledges data the other side never sent
  OutsideWindow,        // beyond what the receiver offered, or far behind what it has
  Paws,                 // a timestamp older than the sender's last (RFC 7323 PAWS)
  TimestampMissing,     // no timestamp on a connection that negotiated them (RFC 7323 §3.2)
  AfterFin,             // data past the sender's FIN
  AfterReset,           // anything after the connection was reset
  // TCP streams netmon reads (reassembly.h).
  UrgentData,           // URG: stacks disagree on whether the urgent byte is in the stream
  OverlapConflict,      // bytes that differ from the ones already accepted for that place
  Unverifiable,         // a retransmission of bytes no longer kept to compare it with
  ReassemblyBound,      // out of order beyond limits.reassemblyPendingBytes
  kCount
};
const char* to_string(NormDrop d);

}  // namespace vitrine::netmon
