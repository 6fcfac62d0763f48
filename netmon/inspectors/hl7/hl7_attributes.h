// What a rule's `hl7` block can put conditions on: MSH-9 and MSH-3 to MSH-6.
#pragma once

#include <vector>

#include "vitrine/policy/l7.h"

namespace vitrine::netmon::hl7 {

extern const policy::Attribute kMessageType;  // MSH-9, "RDE^O11"
extern const policy::Attribute kSendingApplication;
extern const policy::Attribute kSendingFacility;
extern const policy::Attribute kReceivingApplication;
extern const policy::Attribute kReceivingFacility;
const std::vector<policy::Attr>& attributes();

}  // namespace vitrine::netmon::hl7
