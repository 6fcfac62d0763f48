#include "load_l7.h"

#include <strings.h>

#include <algorithm>
#include <string_view>

#include "vitrine/common/suggest.h"

namespace vitrine::policy {

namespace {

std::string closed_list_problem(Attr a, const std::string& t) {
  const auto& allowed = a->values();
  if (std::any_of(allowed.begin(), allowed.end(), [&](const std::string& v) { return strcasecmp(v.c_str(), t.c_str()) == 0; }))
    return "";
  const auto near = closest_name(t, allowed);
  std::string known;
  if (allowed.size() <= 10)
    for (const auto& v : allowed) known += (known.empty() ? "" : ", ") + v;
  return "'" + t + "' is not a known " + info(a).name + (known.empty() ? "" : " (" + known + ")") +
         (near ? "; did you mean '" + *near + "'?" : "");
}

}  // namespace

std::vector<std::string> l7_block_names(const ProtocolCatalog& catalog) {
  std::vector<std::string> out;
  for (const Attr a : catalog.attributes())
    if (std::find(out.begin(), out.end(), a->block) == out.end()) out.emplace_back(a->block);
  return out;
}

// A value is kept to L7Attributes::kMaxValueBytes, so a longer pattern says nothing more; and a
// glob's match time grows with the pattern's length times the value's (glob_match).
constexpr size_t kMaxPatternBytes = L7Attributes::kMaxValueBytes;

std::string pattern_problem(Attr a, const std::string& text) {
  if (text.empty()) return "must not be empty";
  if (text.size() > kMaxPatternBytes)
    return "a pattern is at most " + std::to_string(kMaxPatternBytes) + " characters (values are kept to as many), got " +
           std::to_string(text.size());
  if (a->values != nullptr) return closed_list_problem(a, text);
  return a->pattern_problem != nullptr ? a->pattern_problem(text) : "";
}

void parse_l7_block(const YamlReader& r, const ProtocolCatalog& catalog, const std::string& block,
                    const YAML::Node& n, const std::string& path, std::vector<L7Condition>& out) {
  std::map<std::string, YamlReader::Field> fields;
  std::string field_names;
  for (const Attr a : catalog.attributes()) {
    if (block != a->block) continue;
    field_names += (field_names.empty() ? "" : ", ") + std::string(info(a).field);
    fields[info(a).field] = [&r, &out, a](const YAML::Node& v, const std::string& p) {
      L7Condition c;
      c.attr = a;
      c.line = v.Mark().line + 1;
      c.column = v.Mark().column + 1;
      auto take = [&](const YAML::Node& item, const std::string& ip) {
        const auto text = r.scalar(item, ip);
        const auto problem = pattern_problem(a, text);
        if (!problem.empty()) r.fail(item, ip, problem);
        c.patterns.push_back(a->normalise != nullptr ? a->normalise(text) : text);
      };
      if (info(a).compare == Compare::AtLeastVersion) {
        take(v, p);
      } else {
        r.list(v, p, take);
        if (c.patterns.empty()) r.fail(v, p, "an empty list matches nothing: name at least one, or drop the field");
      }
      out.push_back(std::move(c));
    };
  }
  const size_t before = out.size();
  r.map(n, path, fields);
  if (out.size() == before) r.fail(n, path, "an empty '" + block + "' block: give at least one of " + field_names);
}

}  // namespace vitrine::policy
