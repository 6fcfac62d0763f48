// Reading a rule's per-protocol blocks (dns, http, hl7, ...: those of the catalog's attributes): each field's
// patterns are checked against what the field can ever be, so that a condition that could
// never match is an error at load time rather than a rule that silently never applies.
#pragma once

#include <string>
#include <vector>

#include "vitrine/common/yaml_reader.h"
#include "vitrine/policy/catalog.h"
#include "vitrine/policy/l7.h"

namespace vitrine::policy {

// The rule keys that open a block: "dns", "http", ...
std::vector<std::string> l7_block_names(const ProtocolCatalog& catalog);

// Appends the conditions of block `block` (one of l7_block_names()) written at `n`.
void parse_l7_block(const YamlReader& r, const ProtocolCatalog& catalog, const std::string& block,
                    const YAML::Node& n, const std::string& path, std::vector<L7Condition>& out);

// Why `text` can never be a value of `a` (empty when it can); `text` is as written.
std::string pattern_problem(Attr a, const std::string& text);

}  // namespace vitrine::policy
