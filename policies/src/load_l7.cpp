#include "load_l7.h"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "vitrine/common/suggest.h"

namespace vitrine::policy {

namespace {

// RFC 1035: a name is at most 253 characters written out.
constexpr size_t kMaxHostName = 253;
// Longer than any path a cabinet's web client asks for, short enough to keep a rule readable.
constexpr size_t kMaxHttpPath = 2048;
// Windows refuses share names longer than 80 characters.
constexpr size_t kMaxShareName = 80;
// HL7 v2.5 gives the HD data type (MSH-3 to MSH-6) 227 characters.
constexpr size_t kMaxHl7Hd = 227;
// DICOM PS3.5: an AE title is at most 16 characters.
constexpr size_t kMaxAeTitle = 16;

bool is_glob(char c) { return c == '*' || c == '?'; }

std::string host_problem(const std::string& t) {
  if (t.size() > kMaxHostName) return "a name is at most 253 characters";
  for (char c : t)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' && !is_glob(c))
      return "a name has letters, digits, '-', '_' and '.', and '*' or '?' as wildcards; got '" + t + "'";
  if (t.front() == '.' || t.find("..") != std::string::npos) return "'" + t + "' has an empty label";
  if (t.back() == '.') return "write '" + t.substr(0, t.size() - 1) + "' without the trailing dot";
  return "";
}

std::string path_problem(const std::string& t) {
  if (t.size() > kMaxHttpPath) return "a path is at most 2048 characters";
  if (t.front() != '/' && t.front() != '*') return "a path starts with '/' (or the wildcard '*'), got '" + t + "'";
  for (unsigned char c : t)
    if (c <= 0x20 || c >= 0x7f) return "a path is printable ASCII without spaces (percent-encode the rest), got '" + t + "'";
  return "";
}

std::string share_problem(const std::string& t) {
  if (t.size() > kMaxShareName) return "a share name is at most 80 characters";
  for (unsigned char c : t)
    if (c < 0x20 || c == 0x7f || std::string_view("\"/\\[]:|<>+=;,").find(static_cast<char>(c)) != std::string_view::npos)
      return "a share name has no control characters and none of \" / \\ [ ] : | < > + = ; , (got '" + t + "')";
  return "";
}

// One component of MSH-9: '*', or `min`..`max` capitals and digits (and '_' in a structure).
bool message_type_part_ok(std::string_view part, size_t min, size_t max, bool underscore) {
  if (part == "*") return true;
  return part.size() >= min && part.size() <= max && std::all_of(part.begin(), part.end(), [&](char c) {
           return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                  (underscore && c == '_');
         });
}

std::string message_type_problem(const std::string& t) {
  // MSH-9: message code ^ trigger event ^ message structure, e.g. RDE^O11 or ADT^A01^ADT_A01.
  std::vector<std::string_view> parts;
  std::string_view rest = t;
  for (size_t caret; (caret = rest.find('^')) != std::string_view::npos; rest.remove_prefix(caret + 1))
    parts.push_back(rest.substr(0, caret));
  parts.push_back(rest);
  const bool ok = parts.size() <= 3 && message_type_part_ok(parts[0], 3, 3, false) &&
                  (parts.size() < 2 || message_type_part_ok(parts[1], 3, 3, false)) &&
                  (parts.size() < 3 || message_type_part_ok(parts[2], 3, 7, true));
  if (!ok)
    return "a message type is CODE, CODE^EVENT or CODE^EVENT^STRUCTURE in capitals, each part or '*' "
           "(e.g. RDE^O11, ADT^*), got '" + t + "'";
  return "";
}

std::string hd_problem(const std::string& t) {
  if (t.size() > kMaxHl7Hd) return "an MSH application or facility is at most 227 characters";
  for (unsigned char c : t)
    if (c < 0x20 || c == 0x7f || c == '|' || c == '~' || c == '\\')
      return "an MSH application or facility has no control characters and none of | ~ \\ (got '" + t + "')";
  return "";
}

std::string ae_title_problem(const std::string& t) {
  const size_t literal = static_cast<size_t>(std::count_if(t.begin(), t.end(), [](char c) { return c != '*'; }));
  if (literal > kMaxAeTitle) return "an AE title is at most 16 characters, got '" + t + "'";
  for (unsigned char c : t)
    if (c < 0x20 || c >= 0x7f || c == '\\') return "an AE title is printable ASCII without '\\', got '" + t + "'";
  return "";
}

std::string uid_problem(const std::string& t) {
  // A UID (PS3.5 9.1): digits and dots, at most 64 characters; '*' and '?' as wildcards.
  if (t.size() > 64) return "a UID is at most 64 characters, got '" + t + "'";
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && !is_glob(c))
      return "a SOP class is a UID such as 1.2.840.10008.1.1 (digits and dots), got '" + t + "'";
  return "";
}

std::string trim_spaces(const std::string& s) {
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

std::string closed_list_problem(Attr a, const std::string& t) {
  const auto& allowed = allowed_values(a);
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

const std::vector<std::string>& l7_block_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (size_t i = 0; i < kAttrCount; ++i) {
      const std::string b = info(static_cast<Attr>(i)).block;
      if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
    }
    return out;
  }();
  return names;
}

std::string pattern_problem(Attr a, const std::string& text) {
  if (text.empty()) return "must not be empty";
  if (!allowed_values(a).empty()) return closed_list_problem(a, text);
  switch (a) {
    case Attr::DnsName:
    case Attr::HttpHost:
    case Attr::TlsSni: return host_problem(text);
    case Attr::HttpPath: return path_problem(text);
    case Attr::SmbShare: return share_problem(text);
    case Attr::Hl7MessageType: return message_type_problem(text);
    case Attr::Hl7SendingApplication:
    case Attr::Hl7SendingFacility:
    case Attr::Hl7ReceivingApplication:
    case Attr::Hl7ReceivingFacility: return hd_problem(text);
    case Attr::DicomSopClasses: return uid_problem(text);
    case Attr::DicomCalledAe:
    case Attr::DicomCallingAe:
      return trim_spaces(text).empty() ? "an AE title is not all spaces" : ae_title_problem(trim_spaces(text));
    default: return "";
  }
}

void parse_l7_block(const YamlReader& r, const std::string& block, const YAML::Node& n,
                    const std::string& path, std::vector<L7Condition>& out) {
  std::map<std::string, YamlReader::Field> fields;
  std::string field_names;
  for (size_t i = 0; i < kAttrCount; ++i) {
    const Attr a = static_cast<Attr>(i);
    if (block != info(a).block) continue;
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
        c.patterns.push_back(a == Attr::DicomCalledAe || a == Attr::DicomCallingAe ? trim_spaces(text) : text);
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
