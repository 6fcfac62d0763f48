// Conditions on what a flow's application messages say (the DNS name asked for, the HTTP
// request, the TLS hello, SMB, HL7 and DICOM fields), and the attributes the classifier and
// the inspectors report for judging them. A rule's conditions all have to hold; a condition
// holds when the reported value matches any one of its patterns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vitrine::policy {

// How a condition on an attribute is written and compared.
enum class Compare : uint8_t {
  Glob,            // '*' any run of characters, '?' one character, case as the field says
  GlobNoCase,      // the same, ignoring ASCII case (names, methods, share names)
  AtLeastVersion,  // one value of the attribute's ordered `values`: holds for it and those after
  EachGlob,        // a space-separated list: holds when it has items and each matches a pattern
};

// One attribute a rule can put a condition on, declared beside what reports it: an inspector
// in its own folder (netmon/inspectors/hl7/hl7_attributes.cpp), nDPI's in
// netmon/src/ndpi_attributes.cpp. Never copied: an attribute is known by its address.
// The policy library knows no protocol: the loader takes the attributes from its catalog.
struct Attribute {
  const char* block;     // the rule's key: "dns", "http", ...
  const char* field;     // the key inside it: "names", "minVersion", ...
  const char* name;      // in events and flow records: "dns.name", "tls.version", ...
  // The protocols whose flows carry it, as the classifier names them (the second may be null).
  const char* protocols[2];
  Compare compare;
  // Why a pattern an author wrote can never be a value (empty when it can); null: any text.
  std::string (*pattern_problem)(const std::string& pattern) = nullptr;
  // A closed list (HTTP methods, SMB dialects; in order for AtLeastVersion), or null. A
  // function, so that the list is built on first use, whatever reads it during start-up.
  const std::vector<std::string>& (*values)() = nullptr;
  // The pattern as values are compared with it (AE titles without their padding), or null.
  std::string (*normalise)(const std::string& pattern) = nullptr;
  // In place of the glob, for a field with structure of its own (HL7's MSH-9), or null.
  bool (*matches)(std::string_view pattern, std::string_view value, bool ignore_case) = nullptr;
};
// An attribute is named by its one declaration: conditions and reports hold its address.
using Attr = const Attribute*;
inline const Attribute& info(Attr a) { return *a; }

// What has been reported of one flow (or of the message being judged): empty is not reported.
// Only what was reported is kept, packed in one buffer (the attribute's address, a 16-bit
// length, the value): every flow of a busy table may carry some, most a few short ones.
class L7Attributes {
 public:
  // Empty when not reported. Valid until the next set().
  std::string_view get(Attr a) const;
  // An empty value takes the attribute away; values are kept to kMaxValueBytes.
  void set(Attr a, std::string_view v);
  bool empty() const { return packed_.empty(); }
  // The reported ones, by their names in events, in the order of the names:
  // {"dns.name", "pharmacy.ward3.local"}, ...
  std::vector<std::pair<std::string, std::string>> reported() const;
  // The longest value kept: an HTTP path or an HL7 field is cut there (what a rule matches
  // never needs more).
  static constexpr size_t kMaxValueBytes = 4096;

 private:
  // Where attribute `a`'s entry starts in packed_, or npos.
  size_t find(Attr a) const;
  std::string packed_;
};

struct L7Condition {
  Attr attr = nullptr;
  std::vector<std::string> patterns;  // any one; AtLeastVersion: exactly one
  int line = 0, column = 0;
};

enum class Match : uint8_t { No, Yes, Unknown };

// Whether all `conditions` hold. `attributes_final`: nothing more will be reported, so a
// condition on an attribute not reported fails; otherwise it is Unknown.
Match match_conditions(const std::vector<L7Condition>& conditions, const L7Attributes* attributes,
                       bool attributes_final);
bool glob_match(std::string_view pattern, std::string_view value, bool ignore_case);
// Where `value` stands in the attribute's ordered values (AtLeastVersion), or nullopt.
std::optional<size_t> value_rank(Attr a, std::string_view value);

}  // namespace vitrine::policy
