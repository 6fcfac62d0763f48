// One rule of a policy file, read (load.cpp reads the rest of the file around it).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "vitrine/common/yaml_reader.h"
#include "vitrine/policy/catalog.h"
#include "vitrine/policy/policy.h"

namespace vitrine::policy {

// The named sets of addresses a rule's peers may name: its file's and an extended baseline's.
using Sets = std::map<std::string, std::vector<Cidr>>;

// A rule's or a policy's name: a metric label and an event field, read by people.
inline constexpr size_t kMaxNameBytes = 128;

inline const std::vector<std::pair<const char*, Action>> kActions = {
    {"allow", Action::Allow}, {"deny", Action::Deny}, {"alert", Action::Alert}};

// Members of the sets it names are added once the policy is whole (a site may fill a
// baseline's set). Throws ConfigError at the mistake.
Rule parse_rule(const YamlReader& r, const YAML::Node& n, const std::string& path, const ProtocolCatalog& catalog,
                const Sets& sets);

}  // namespace vitrine::policy
