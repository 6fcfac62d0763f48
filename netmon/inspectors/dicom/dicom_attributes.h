// What a rule's `dicom` block can put conditions on: the association's AE titles and the
// abstract syntaxes (SOP classes) it proposes.
#pragma once

#include <vector>

#include "vitrine/policy/l7.h"

namespace vitrine::netmon::dicom {

extern const policy::Attribute kCalledAe;
extern const policy::Attribute kCallingAe;
extern const policy::Attribute kSopClasses;  // as UIDs separated by spaces
const std::vector<policy::Attr>& attributes();

}  // namespace vitrine::netmon::dicom
