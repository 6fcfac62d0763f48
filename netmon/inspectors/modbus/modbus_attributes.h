// What a rule's `modbus` block can put conditions on: each request's function.
#pragma once

#include <vector>

#include "vitrine/policy/l7.h"

namespace vitrine::netmon::modbus {

extern const policy::Attribute kFunction;  // "READ_HOLDING_REGISTERS"
const std::vector<policy::Attr>& attributes();

}  // namespace vitrine::netmon::modbus
