// What every inspector's fuzz target holds it to: a malformed reason it reports is one of the
// closed set its registration declares (a metric label registered at start-up), never another.
#pragma once

#include <algorithm>
#include <cstdlib>

#include "vitrine/netmon/inspector.h"

inline void abort_unless_declared(const vitrine::netmon::InspectionOutput& out,
                                  const vitrine::netmon::InspectorRegistration& registration) {
  for (const vitrine::netmon::MalformedReason* r : out.malformed)
    if (r == nullptr || std::find(registration.malformed.begin(), registration.malformed.end(), r) ==
                            registration.malformed.end())
      abort();
}
