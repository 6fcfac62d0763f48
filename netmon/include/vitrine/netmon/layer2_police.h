// The layer-2 police: what may cross below the flow rules. The guest may only send from its
// MAC and IP and ARP only for itself; frames from the network must be for the guest. DHCP is
// policed as a switch's DHCP snooping does: from the guest only well-formed client messages
// for its own MAC, to broadcast or the policy's DHCP servers; to the guest only server replies
// for its MAC, from those servers. Anything else on ports 67 and 68 is no DHCP shortcut: the
// flow rules judge it like any UDP. Pure: the engine counts and records what it decides.
#pragma once

#include <cstdint>

#include "vitrine/netmon/decode.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

enum class Side : uint8_t;

// Why the layer-2 police dropped a frame.
enum class L2Drop : uint8_t {
  SpoofedMac,     // from the guest with another source MAC
  SpoofedIp,      // from the guest with another source IP
  ArpSpoof,       // ARP from the guest claiming another MAC or IP
  NonIp,          // neither IP nor ARP
  DhcpServer,     // the guest answering as a DHCP server
  NotForGuest,    // from the network, addressed to someone else
  kCount
};
const char* to_string(L2Drop r);

// What became of a datagram between DHCP's ports. Metric label values.
enum class DhcpOutcome : uint8_t {
  None,             // not DHCP's ports
  Passed,           // a well-formed message of the guest's DHCP exchange
  NotDhcp,          // not a well-formed DHCP message of the right kind for its direction
  WrongClient,      // for (or from) another client hardware address than the guest's
  WrongServer,      // a reply from an address that is not one of the policy's DHCP servers
  WrongDestination, // a request sent to an address that is neither broadcast nor a server
  kCount
};
const char* to_string(DhcpOutcome o);

enum class L2Result : uint8_t { Inspect, Forward, Drop };

struct L2Decision {
  L2Result result = L2Result::Inspect;
  L2Drop reason = L2Drop::kCount;       // when dropped
  DhcpOutcome dhcp = DhcpOutcome::None;  // when on DHCP's ports with dhcpClient on
};

// `from`: the interface the frame arrived on.
L2Decision police_layer2(const policy::Policy& policy, Side from, const Decoded& d);

}  // namespace vitrine::netmon
