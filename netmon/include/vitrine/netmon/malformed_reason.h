// A way the bytes of a recognised protocol did not follow it. Each inspector declares its own
// as a closed set beside itself (<name>/<name>_malformed.h) and lists them in its registration:
// they are the `reason` label of vitrine_netmon_inspector_malformed_total, so that a dashboard
// knows every value ahead of time and every series is there, at 0, from netmon's start. A
// parser reports one by its address; nothing builds a reason from the bytes it read.
#pragma once

#include <span>

namespace vitrine::netmon {

struct MalformedReason {
  const char* id;           // the metric label: lower_snake_case, stable from release to release
  const char* description;  // what was wrong, in words: for events and METRICS.md
};

// An inspector's whole set, as its registration lists it.
using MalformedReasons = std::span<const MalformedReason* const>;

}  // namespace vitrine::netmon
