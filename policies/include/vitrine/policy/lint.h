// What a policy says that its author probably did not mean, but that is not an error: a rule
// no flow can ever reach, because an earlier rule matches everything it matches.
#pragma once

#include <string>
#include <vector>

#include "vitrine/policy/load.h"
#include "vitrine/policy/policy.h"

namespace vitrine::policy {

struct PolicyWarning {
  size_t rule = 0;        // index into Policy::rules
  std::string source;     // the file the rule is written in
  int line = 0, column = 0;
  std::string message;
};

// (A condition on an attribute nothing reports is not a warning but a load error: the loader
// takes the attributes from what declares them, the classifier and the inspectors.)
std::vector<PolicyWarning> lint(const Policy& policy);

// True when every flow that `later` matches is matched by `earlier` (whatever the L7 protocol
// turns out to be, when `earlier` names none).
bool covers(const Rule& earlier, const Rule& later);

}  // namespace vitrine::policy
