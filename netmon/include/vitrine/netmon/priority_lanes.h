// What a flood fills is never what keeps the cabinet's allowed traffic flowing. A flood that
// outruns netmon fills the kernel's receive ring of the interface it arrives on, and the ring
// drops what comes next, whatever it is. So each interface has three rings, its lanes, that
// the kernel fills by a BPF filter before any ring takes room, and the relay empties in order:
//   1. flows: the exact endpoints of each allowed flow that has been answered (kMaxLaneFlows,
//      the most recently active first): the cabinet's open sessions;
//   2. services: ARP for the guest's address, DHCP when the guest is a DHCP client, and the
//      peers and ports the policy's allow rules name (the pharmacy's HL7 port, the console's
//      share), so that a new connection to them is in a lane from its first packet;
//   3. bulk: everything else.
// A flood with forged sources reaches only bulk. One that forges a listed peer's address and
// port (or, from a compromised guest, aims at a listed service) competes in the services lane
// with new connections to those services; open sessions keep their own lane. Filters are
// libpcap expressions, compiled to the kernel's classic BPF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/common/net_types.h"
#include "vitrine/netmon/flow.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

// Exact flows in a priority filter at most: each costs about a dozen BPF instructions, and a
// socket filter has at most 4096 (a cabinet keeps tens of flows open).
inline constexpr size_t kMaxLaneFlows = 96;
// The flows lane is rebuilt at most this often when the allowed flows change: a new flow that
// a rule names is in the services lane from its first packet; the rest can wait that long.
inline constexpr uint64_t kLaneUpdateIntervalUs = 200'000;

struct LaneFlow {
  uint8_t ip_protocol = 0;
  uint16_t guest_port = 0;
  IpAddr peer_ip;
  uint16_t peer_port = 0;
};

// What the flows and services lanes take of frames that arrive from `side`: IP terms in
// libpcap's language (they read the same whatever the link layer), and ARP for the guest, which
// a filter of the link layer or a hand-made piece of BPF matches.
struct LaneFilters {
  std::string flows;
  std::string services;
  uint32_t arp_ip = 0;       // the guest's IPv4 address (host order); 0: no ARP term
  uint32_t arp_offset = 24;  // where it is in an ARP header: 14 the sender's (from the guest), 24 the target's
};
LaneFilters lane_filters(const policy::Policy& policy, Side side, const std::vector<LaneFlow>& flows);
// The services lane's filter for Ethernet frames (its IP terms and its ARP term).
std::string services_filter_ethernet(const LaneFilters& filters);

}  // namespace vitrine::netmon
