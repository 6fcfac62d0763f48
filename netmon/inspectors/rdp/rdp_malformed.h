// What the RDP inspector reports as not following TPKT, X.224 or MCS: a closed set
// (vitrine/netmon/malformed_reason.h), each id a metric label value.
#pragma once

#include "vitrine/netmon/malformed_reason.h"

namespace vitrine::netmon::rdp::malformed {

inline constexpr MalformedReason kTpktReserved{"tpkt_reserved_not_zero", "a TPKT whose reserved byte is not zero"};
inline constexpr MalformedReason kNoConnectionRequest{
    "no_connection_request", "an RDP connection that does not start with an X.224 connection request"};
inline constexpr MalformedReason kConnectInitial{"connect_initial_unparsed",
                                                 "an MCS Connect-Initial that does not parse"};

inline constexpr const MalformedReason* kAll[] = {&kTpktReserved, &kNoConnectionRequest, &kConnectInitial};

}  // namespace vitrine::netmon::rdp::malformed
