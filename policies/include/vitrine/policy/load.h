// Reads a policy from YAML. Every mistake is reported with file, line and column, and an
// unknown key is a mistake: a misspelt field in a security policy must never be ignored.
#pragma once

#include <cstddef>
#include <string>

#include "vitrine/common/config_error.h"
#include "vitrine/policy/catalog.h"
#include "vitrine/policy/policy.h"

namespace vitrine::policy {

// Every rule's peers, its sets' members counted in each rule that names them. A cabinet talks
// to tens of hosts and a site's sets list hundreds of addresses or CIDRs; loading, indexing and
// checking a policy costs in proportion to this (the checks compare peers pairwise), and 20,000
// keeps that within a second where a few thousand rules naming one big set took minutes and GB.
inline constexpr size_t kMaxResolvedPeers = 20'000;

// A policy that does not load: file, line and column are in what() and in its fields.
using PolicyError = ConfigError;

// `source` names the text in messages (the file path). Throws PolicyError.
Policy load_policy_text(const std::string& yaml_text, const std::string& source,
                        const ProtocolCatalog& catalog);
Policy load_policy_file(const std::string& path, const ProtocolCatalog& catalog);

}  // namespace vitrine::policy
