#include "vitrine/policy/l7.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

namespace vitrine::policy {

namespace {

const AttrInfo kInfo[kAttrCount] = {
    {"dns", "names", "dns.name", {"DNS", nullptr}, Compare::GlobNoCase},
    {"http", "hosts", "http.host", {"HTTP", nullptr}, Compare::GlobNoCase},
    {"http", "methods", "http.method", {"HTTP", nullptr}, Compare::GlobNoCase},
    {"http", "paths", "http.path", {"HTTP", nullptr}, Compare::Glob},
    {"tls", "sni", "tls.sni", {"TLS", nullptr}, Compare::GlobNoCase},
    {"tls", "minVersion", "tls.version", {"TLS", nullptr}, Compare::AtLeastVersion},
    {"smb", "dialects", "smb.dialect", {"SMBv1", "SMBv23"}, Compare::GlobNoCase},
    {"smb", "commands", "smb.command", {"SMBv1", "SMBv23"}, Compare::GlobNoCase},
    {"smb", "shares", "smb.share", {"SMBv1", "SMBv23"}, Compare::GlobNoCase},
    {"hl7", "messageTypes", "hl7.message_type", {"HL7", nullptr}, Compare::Glob},
    {"hl7", "sendingApplications", "hl7.sending_application", {"HL7", nullptr}, Compare::Glob},
    {"hl7", "sendingFacilities", "hl7.sending_facility", {"HL7", nullptr}, Compare::Glob},
    {"hl7", "receivingApplications", "hl7.receiving_application", {"HL7", nullptr}, Compare::Glob},
    {"hl7", "receivingFacilities", "hl7.receiving_facility", {"HL7", nullptr}, Compare::Glob},
    {"dicom", "calledAeTitles", "dicom.called_ae", {"DICOM", nullptr}, Compare::Glob},
    {"dicom", "callingAeTitles", "dicom.calling_ae", {"DICOM", nullptr}, Compare::Glob},
    {"dicom", "sopClasses", "dicom.sop_classes", {"DICOM", nullptr}, Compare::EachGlob},
};

char fold(char c, bool ignore_case) {
  return ignore_case ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

// MSH-9's components (code ^ event ^ structure); `value` is normalised to '^' by the reader.
std::vector<std::string_view> components(std::string_view v) {
  std::vector<std::string_view> out;
  for (size_t caret; (caret = v.find('^')) != std::string_view::npos; v.remove_prefix(caret + 1))
    out.push_back(v.substr(0, caret));
  out.push_back(v);
  return out;
}

// A message type pattern names as many components as it cares about, and allows no more than
// it names: "ADT" is every ADT event, "RDE^O11" that event. A structure (MSH-9.3) the pattern
// does not name must be one of the message's own code ("RDE_O11", "ADT_A01" for ADT^A04; ACK's is "ACK"),
// since a receiver that reads MSH-9.3 parses the message as that structure: ORM^O01^ADT_A01 is
// an ADT to it, and does not pass "ORM^O01". MSH-9 has three components; a fourth is refused.
bool message_type_match(std::string_view pattern, std::string_view value, bool nocase) {
  const auto want = components(pattern), have = components(value);
  if (have.size() > 3) return false;
  for (size_t i = 0; i < want.size(); ++i)
    if (!glob_match(want[i], i < have.size() ? have[i] : std::string_view{}, nocase)) return false;
  if (want.size() >= 3 || have.size() < 3) return true;
  const std::string_view code = have[0], structure = have[2];
  if (structure.empty()) return true;              // "ADT^A01^": none named
  if (code == "ACK") return structure == "ACK";  // the one structure without an event
  return structure.size() > code.size() + 1 && structure.substr(0, code.size()) == code &&
         structure[code.size()] == '_';
}

Match match_one(const L7Condition& c, std::string_view value, bool final) {
  if (value.empty()) return final ? Match::No : Match::Unknown;
  const Compare how = info(c.attr).compare;
  if (how == Compare::AtLeastVersion) {
    const auto have = tls_version_rank(value);
    const auto want = tls_version_rank(c.patterns.front());
    return have && want && *have >= *want ? Match::Yes : Match::No;
  }
  if (how == Compare::EachGlob) {  // every item must be one the patterns allow
    std::string_view rest = value;
    bool any = false;
    while (!rest.empty()) {
      const size_t space = rest.find(' ');
      const std::string_view item = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
      if (item.empty()) continue;
      any = true;
      if (std::none_of(c.patterns.begin(), c.patterns.end(), [&](const std::string& p) { return glob_match(p, item, false); }))
        return Match::No;
    }
    return any ? Match::Yes : Match::No;
  }
  const bool nocase = how == Compare::GlobNoCase;
  return std::any_of(c.patterns.begin(), c.patterns.end(),
                     [&](const std::string& p) {
                       if (c.attr == Attr::Hl7MessageType) return message_type_match(p, value, nocase);
                       return glob_match(p, value, nocase);
                     })
             ? Match::Yes
             : Match::No;
}

}  // namespace

const AttrInfo& info(Attr a) { return kInfo[static_cast<size_t>(a)]; }

std::optional<Attr> attr_by_name(std::string_view name) {
  for (size_t i = 0; i < kAttrCount; ++i)
    if (name == kInfo[i].name) return static_cast<Attr>(i);
  return std::nullopt;
}

size_t L7Attributes::find(Attr a) const {
  for (size_t at = 0; at + 3 <= packed_.size();) {
    const size_t len = static_cast<unsigned char>(packed_[at + 1]) | static_cast<size_t>(static_cast<unsigned char>(packed_[at + 2])) << 8;
    if (static_cast<unsigned char>(packed_[at]) == static_cast<unsigned char>(a)) return at;
    at += 3 + len;
  }
  return std::string::npos;
}

std::string_view L7Attributes::get(Attr a) const {
  const size_t at = find(a);
  if (at == std::string::npos) return {};
  const size_t len = static_cast<unsigned char>(packed_[at + 1]) | static_cast<size_t>(static_cast<unsigned char>(packed_[at + 2])) << 8;
  return std::string_view(packed_).substr(at + 3, len);
}

void L7Attributes::set(Attr a, std::string_view v) {
  if (const size_t at = find(a); at != std::string::npos) {
    const size_t len = static_cast<unsigned char>(packed_[at + 1]) | static_cast<size_t>(static_cast<unsigned char>(packed_[at + 2])) << 8;
    packed_.erase(at, 3 + len);
  }
  if (v.empty()) return;
  v = v.substr(0, kMaxValueBytes);
  packed_ += static_cast<char>(a);
  packed_ += static_cast<char>(v.size() & 0xff);
  packed_ += static_cast<char>(v.size() >> 8);
  packed_.append(v);
}

std::vector<std::pair<std::string, std::string>> L7Attributes::reported() const {
  std::vector<std::pair<std::string, std::string>> out;  // in the attributes' own order
  for (size_t i = 0; i < kAttrCount; ++i) {
    const std::string_view v = get(static_cast<Attr>(i));
    if (!v.empty()) out.emplace_back(kInfo[i].name, std::string(v));
  }
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

const std::vector<std::string>& tls_version_names() {
  static const std::vector<std::string> names = {"1.0", "1.1", "1.2", "1.3"};
  return names;
}

std::optional<int> tls_version_rank(std::string_view version) {
  const auto& names = tls_version_names();
  const auto it = std::find(names.begin(), names.end(), version);
  if (it == names.end()) return std::nullopt;
  return static_cast<int>(it - names.begin());
}

std::string tls_version_name(uint16_t wire_version) {
  switch (wire_version) {
    case 0x0301: return "1.0";
    case 0x0302: return "1.1";
    case 0x0303: return "1.2";
    case 0x0304: return "1.3";
    default: return "";
  }
}

const std::vector<std::string>& allowed_values(Attr a) {
  static const std::vector<std::string> none;
  static const std::vector<std::string> methods = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                                   "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  // SMB1 is the NT LM 0.12 dialect XP speaks; the others are SMB2/3 dialect revisions.
  static const std::vector<std::string> dialects = {"SMB1", "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"};
  // SMB1 ([MS-CIFS] 2.2.2.1) and SMB2 ([MS-SMB2] 2.2.1) commands, as the specifications name them.
  static const std::vector<std::string> commands = {
      // SMB2/3
      "NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT", "CREATE", "CLOSE",
      "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY",
      "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK",
      // SMB1 only
      "CREATE_DIRECTORY", "DELETE_DIRECTORY", "OPEN", "DELETE", "RENAME", "QUERY_INFORMATION",
      "SET_INFORMATION", "LOCKING_ANDX", "TRANSACTION", "TRANSACTION_SECONDARY", "COPY", "MOVE",
      "OPEN_ANDX", "READ_ANDX", "WRITE_ANDX", "TRANSACTION2", "TRANSACTION2_SECONDARY",
      "FIND_CLOSE2", "TREE_CONNECT_ANDX", "SESSION_SETUP_ANDX", "LOGOFF_ANDX", "NT_TRANSACT",
      "NT_TRANSACT_SECONDARY", "NT_CREATE_ANDX", "NT_CANCEL", "NT_RENAME", "OPEN_PRINT_FILE",
      "WRITE_PRINT_FILE", "CLOSE_PRINT_FILE", "WRITE_AND_UNLOCK", "WRITE_RAW", "WRITE_AND_CLOSE"};
  switch (a) {
    case Attr::HttpMethod: return methods;
    case Attr::SmbDialect: return dialects;
    case Attr::SmbCommand: return commands;
    case Attr::TlsVersion: return tls_version_names();
    default: return none;
  }
}

}  // namespace vitrine::policy
