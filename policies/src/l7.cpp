#include "vitrine/policy/l7.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>
#include <vector>

namespace vitrine::policy {

namespace {

char fold(char c, bool ignore_case) {
  return ignore_case ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

bool each_item_matches(const L7Condition& c, std::string_view value) {
  std::string_view rest = value;
  bool any = false;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    const std::string_view item = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    if (item.empty()) continue;
    any = true;
    if (std::none_of(c.patterns.begin(), c.patterns.end(), [&](const std::string& p) { return glob_match(p, item, false); }))
      return false;
  }
  return any;
}

Match match_one(const L7Condition& c, std::string_view value, bool final) {
  if (value.empty()) return final ? Match::No : Match::Unknown;
  const Attribute& a = *c.attr;
  bool holds = false;
  if (a.compare == Compare::AtLeastVersion) {
    const auto have = value_rank(c.attr, value), want = value_rank(c.attr, c.patterns.front());
    holds = have && want && *have >= *want;
  } else if (a.compare == Compare::EachGlob) {  // every item must be one the patterns allow
    holds = each_item_matches(c, value);
  } else {
    const bool nocase = a.compare == Compare::GlobNoCase;
    const auto matches = a.matches != nullptr ? a.matches : &glob_match;
    holds = std::any_of(c.patterns.begin(), c.patterns.end(), [&](const std::string& p) { return matches(p, value, nocase); });
  }
  return holds ? Match::Yes : Match::No;
}

}  // namespace

namespace {
// An entry of L7Attributes' buffer: the attribute's address, then the value's length.
constexpr size_t kEntryHeader = sizeof(Attr) + 2;

Attr entry_attr(const std::string& packed, size_t at) {
  Attr a;
  std::memcpy(&a, packed.data() + at, sizeof a);
  return a;
}

size_t entry_length(const std::string& packed, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(packed.data() + at + sizeof(Attr));
  return p[0] | static_cast<size_t>(p[1]) << 8;
}
}  // namespace

size_t L7Attributes::find(Attr a) const {
  for (size_t at = 0; at + kEntryHeader <= packed_.size(); at += kEntryHeader + entry_length(packed_, at))
    if (entry_attr(packed_, at) == a) return at;
  return std::string::npos;
}

std::string_view L7Attributes::get(Attr a) const {
  const size_t at = find(a);
  if (at == std::string::npos) return {};
  return std::string_view(packed_).substr(at + kEntryHeader, entry_length(packed_, at));
}

void L7Attributes::set(Attr a, std::string_view v) {
  if (const size_t at = find(a); at != std::string::npos) packed_.erase(at, kEntryHeader + entry_length(packed_, at));
  if (v.empty() || a == nullptr) return;
  v = v.substr(0, kMaxValueBytes);
  char header[kEntryHeader];
  std::memcpy(header, &a, sizeof a);
  header[sizeof a] = static_cast<char>(v.size() & 0xff);
  header[sizeof a + 1] = static_cast<char>(v.size() >> 8);
  packed_.append(header, sizeof header);
  packed_.append(v);
}

std::vector<std::pair<std::string, std::string>> L7Attributes::reported() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t at = 0; at + kEntryHeader <= packed_.size(); at += kEntryHeader + entry_length(packed_, at))
    out.emplace_back(entry_attr(packed_, at)->name, packed_.substr(at + kEntryHeader, entry_length(packed_, at)));
  // The buffer is in the order values were last set, which follows the traffic: records are not.
  std::sort(out.begin(), out.end());
  return out;
}

// Iterative with one backtrack point: linear in practice and never recursive, whatever the
// pattern (policy text) or the value (packet bytes).
bool glob_match(std::string_view pattern, std::string_view value, bool ignore_case) {
  size_t p = 0, v = 0;
  size_t star = std::string_view::npos, star_v = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_v = v;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || fold(pattern[p], ignore_case) == fold(value[v], ignore_case))) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++star_v;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<size_t> value_rank(Attr a, std::string_view value) {
  if (a->values == nullptr) return std::nullopt;
  const auto& values = a->values();
  const auto it = std::find(values.begin(), values.end(), value);
  if (it == values.end()) return std::nullopt;
  return static_cast<size_t>(it - values.begin());
}

Match match_conditions(const std::vector<L7Condition>& conditions, const L7Attributes* attributes,
                       bool attributes_final) {
  Match result = Match::Yes;
  for (const auto& c : conditions) {
    const Match m = match_one(c, attributes ? attributes->get(c.attr) : std::string_view{}, attributes_final);
    if (m == Match::No) return Match::No;
    if (m == Match::Unknown) result = Match::Unknown;
  }
  return result;
}

}  // namespace vitrine::policy
