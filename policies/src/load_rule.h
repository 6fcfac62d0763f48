// One rule of a policy file, read (load.cpp reads the rest of the file around it).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "vitrine/common/utf8.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/policy/catalog.h"
#include "vitrine/policy/policy.h"

namespace vitrine::policy {

// The named sets of addresses a rule's peers may name: its file's and an extended baseline's.
using Sets = std::map<std::string, std::vector<Cidr>>;

// A rule's or a policy's name: a metric label and an event field, read by people.
inline constexpr size_t kMaxNameBytes = 128;

// Why a name a person gave (a policy's, a rule's, a set's) cannot be one, or "": names become
// metric label values and event fields, which take UTF-8 only, and are printed on a terminal.
inline std::string name_problem(const std::string& name, const char* whose) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameBytes) return std::string("a ") + whose + "'s name is at most " + std::to_string(kMaxNameBytes) + " bytes";
  if (!printable_utf8(name)) return std::string("a ") + whose + "'s name is UTF-8 text without control characters";
  return "";
}

inline const std::vector<std::pair<const char*, Action>> kActions = {
    {"allow", Action::Allow}, {"deny", Action::Deny}, {"alert", Action::Alert}};

// Members of the sets it names are added once the policy is whole (a site may fill a
// baseline's set). Throws ConfigError at the mistake.
Rule parse_rule(const YamlReader& r, const YAML::Node& n, const std::string& path, const ProtocolCatalog& catalog,
                const Sets& sets);

}  // namespace vitrine::policy
