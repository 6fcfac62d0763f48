// Conditions on what a flow's application messages say (the DNS name asked for, the HTTP
// request, the TLS hello, SMB, HL7 and DICOM fields), and the attributes the classifier and
// the inspectors report for judging them. A rule's conditions all have to hold; a condition
// holds when the reported value matches any one of its patterns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vitrine::policy {

enum class Attr : uint8_t {
  DnsName,
  HttpHost,
  HttpMethod,
  HttpPath,
  TlsSni,
  TlsVersion,  // "1.0" .. "1.3": what the client offers at best, then what the server chose
  SmbDialect,
  SmbCommand,
  SmbShare,
  Hl7MessageType,  // MSH-9, "RDE^O11"
  Hl7SendingApplication,
  Hl7SendingFacility,
  Hl7ReceivingApplication,
  Hl7ReceivingFacility,
  DicomCalledAe,
  DicomCallingAe,
  DicomSopClasses,  // the abstract syntaxes an association proposes, as UIDs separated by spaces
  kCount
};
inline constexpr size_t kAttrCount = static_cast<size_t>(Attr::kCount);

// How a condition on an attribute is written and compared.
enum class Compare : uint8_t {
  Glob,            // '*' any run of characters, '?' one character, case as the field says
  GlobNoCase,      // the same, ignoring ASCII case (names, methods, share names)
  AtLeastVersion,  // one minimum TLS version
  EachGlob,        // a space-separated list: holds when it has items and each matches a pattern
};

struct AttrInfo {
  const char* block;     // the rule's key: "dns", "http", ...
  const char* field;     // the key inside it: "names", "minVersion", ...
  const char* name;      // in events and flow records: "dns.name", "tls.version", ...
  // The protocols whose flows carry it, as the classifier names them (the second may be null).
  const char* protocols[2];
  Compare compare;
};
const AttrInfo& info(Attr a);
// By its name in events ("dns.name"); nullopt for an unknown name.
std::optional<Attr> attr_by_name(std::string_view name);

// What has been reported of one flow (or of the message being judged): empty is not reported.
// Only what was reported is kept, packed in one buffer (an attribute byte, a 16-bit length,
// the value): every flow of a busy table may carry some, most a few short ones.
class L7Attributes {
 public:
  // Empty when not reported. Valid until the next set().
  std::string_view get(Attr a) const;
  // An empty value takes the attribute away; values are kept to kMaxValueBytes.
  void set(Attr a, std::string_view v);
  bool empty() const { return packed_.empty(); }
  // The reported ones, by their names in events: {"dns.name", "pharmacy.ward3.local"}, ...
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
  Attr attr = Attr::DnsName;
  std::vector<std::string> patterns;  // any one; AtLeastVersion: exactly one
  int line = 0, column = 0;
};

enum class Match : uint8_t { No, Yes, Unknown };

// Whether all `conditions` hold. `attributes_final`: nothing more will be reported, so a
// condition on an attribute not reported fails; otherwise it is Unknown.
Match match_conditions(const std::vector<L7Condition>& conditions, const L7Attributes* attributes,
                       bool attributes_final);
bool glob_match(std::string_view pattern, std::string_view value, bool ignore_case);

// TLS versions as conditions and attributes spell them, in order; nullopt for others.
std::optional<int> tls_version_rank(std::string_view version);
const std::vector<std::string>& tls_version_names();
// "1.2" for 0x0303 and so on; empty for anything else (SSL 2/3, garbage).
std::string tls_version_name(uint16_t wire_version);

// The values a closed-list field accepts (HTTP methods, SMB dialects and commands); empty for
// fields that take patterns.
const std::vector<std::string>& allowed_values(Attr a);

}  // namespace vitrine::policy
