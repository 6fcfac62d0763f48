// What the HL7 inspector reports as not following MLLP or HL7's MSH segment: a closed set
// (vitrine/netmon/malformed_reason.h), each id a metric label value.
#pragma once

#include "vitrine/netmon/malformed_reason.h"

namespace vitrine::netmon::hl7::malformed {

inline constexpr MalformedReason kOutsideFrame{"bytes_outside_frame", "bytes outside an MLLP frame"};
inline constexpr MalformedReason kFrameInFrame{"frame_inside_frame", "an MLLP frame started inside another"};
inline constexpr MalformedReason kEndWithoutCr{"frame_end_without_cr", "an MLLP frame's end (FS) not followed by CR"};
inline constexpr MalformedReason kSecondMsh{"second_msh_segment", "an MLLP frame with a second MSH segment"};
inline constexpr MalformedReason kMshTooLong{"msh_longer_than_kept",
                                             "an MSH segment longer than what is kept of a message"};
inline constexpr MalformedReason kNoMsh{"no_readable_msh", "an MLLP frame without a readable MSH segment"};

inline constexpr const MalformedReason* kAll[] = {&kOutsideFrame, &kFrameInFrame, &kEndWithoutCr,
                                                  &kSecondMsh,    &kMshTooLong,   &kNoMsh};

}  // namespace vitrine::netmon::hl7::malformed
