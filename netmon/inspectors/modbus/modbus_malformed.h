// What the Modbus/TCP inspector reports as not following the protocol: a closed set
// (vitrine/netmon/malformed_reason.h), each id a metric label value.
#pragma once

#include "vitrine/netmon/malformed_reason.h"

namespace vitrine::netmon::modbus::malformed {

inline constexpr MalformedReason kNotModbus{"protocol_id_not_zero",
                                            "a Modbus/TCP header whose protocol identifier is not 0"};
inline constexpr MalformedReason kTooShort{"no_function_code",
                                           "a Modbus/TCP header whose length leaves no function code"};
inline constexpr MalformedReason kTooLong{"adu_too_long",
                                          "a Modbus/TCP message longer than the 260 bytes the protocol allows"};
inline constexpr MalformedReason kBadRequest{"request_function_invalid",
                                             "a request of function code 0 or with the exception bit set"};
// A server may size a request by its function code and ignore the header's length (libmodbus
// does): the rest of the length would be a second request to it, unread by netmon.
inline constexpr MalformedReason kLengthMismatch{
    "request_length_mismatch", "a request whose header's length is not what its function's own fields say"};

inline constexpr const MalformedReason* kAll[] = {&kNotModbus, &kTooShort, &kTooLong, &kBadRequest, &kLengthMismatch};

}  // namespace vitrine::netmon::modbus::malformed
