// `vitrine policy learn`: a draft allowlist from what a cabinet was seen to do, for a policy
// author to review, never to enforce unread. One rule per (direction, peer, transport, port,
// protocol) observed, in the order first seen.
#pragma once

#include <string>
#include <vector>

#include "vitrine/common/net_types.h"
#include "vitrine/netmon/policy_test.h"

namespace vitrine::netmon {

// Flows read back from netmon's events (flow_denied and flow_would_deny: what the running
// policy stopped or would have stopped). Lines that are other events are skipped; lines that
// are not JSON are counted in `unreadable`.
std::vector<ObservedFlow> flows_from_events(const std::string& events_path, size_t& unreadable);

// The draft policy's text. Flows that involve neither guest address are left out; ICMP keeps
// no port; nDPI's label becomes `protocols` when it named one.
std::string draft_policy(const std::vector<ObservedFlow>& flows, const IpAddr& guest_ip, const MacAddr& guest_mac,
                         const std::string& source);

}  // namespace vitrine::netmon
