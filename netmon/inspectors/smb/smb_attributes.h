// What a rule's `smb` block can put conditions on: the dialect, each command, the share.
#pragma once

#include <vector>

#include "vitrine/policy/l7.h"

namespace vitrine::netmon::smb {

extern const policy::Attribute kDialect;
extern const policy::Attribute kCommand;
extern const policy::Attribute kShare;
const std::vector<policy::Attr>& attributes();

}  // namespace vitrine::netmon::smb
