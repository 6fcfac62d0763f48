// Time as vitrine keeps it. Wall-clock time as every vitrine record writes it: UTC, ISO 8601, microseconds. Records from
// hostd and netmon sort together by this text alone.
#pragma once

#include <cstdint>
#include <string>

namespace vitrine {

// Microseconds since the Unix epoch, now: for what records say, never for a deadline.
uint64_t wall_clock_us();

// Microseconds on the monotonic clock, now: for deadlines and durations, which a step of the
// wall clock (NTP, an operator's date) must not move.
uint64_t monotonic_us();

// "2026-11-27T11:41:36.123456Z"
std::string utc_timestamp(uint64_t time_us);

}  // namespace vitrine
