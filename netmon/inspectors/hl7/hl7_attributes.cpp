#include "hl7_attributes.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace vitrine::netmon::hl7 {

namespace {

// HL7 v2.5 gives the HD data type (MSH-3 to MSH-6) 227 characters.
constexpr size_t kMaxHd = 227;

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
    if (!policy::glob_match(want[i], i < have.size() ? have[i] : std::string_view{}, nocase)) return false;
  if (want.size() >= 3 || have.size() < 3) return true;
  const std::string_view code = have[0], structure = have[2];
  if (structure.empty()) return true;              // "ADT^A01^": none named
  if (code == "ACK") return structure == "ACK";  // the one structure without an event
  return structure.size() > code.size() + 1 && structure.substr(0, code.size()) == code &&
         structure[code.size()] == '_';
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
  const auto parts = components(t);
  const bool ok = parts.size() <= 3 && message_type_part_ok(parts[0], 3, 3, false) &&
                  (parts.size() < 2 || message_type_part_ok(parts[1], 3, 3, false)) &&
                  (parts.size() < 3 || message_type_part_ok(parts[2], 3, 7, true));
  if (!ok)
    return "a message type is CODE, CODE^EVENT or CODE^EVENT^STRUCTURE in capitals, each part or '*' "
           "(e.g. RDE^O11, ADT^*), got '" + t + "'";
  return "";
}

std::string hd_problem(const std::string& t) {
  if (t.size() > kMaxHd) return "an MSH application or facility is at most 227 characters";
  for (unsigned char c : t)
    if (c < 0x20 || c == 0x7f || c == '|' || c == '~' || c == '\\')
      return "an MSH application or facility has no control characters and none of | ~ \\ (got '" + t + "')";
  return "";
}

using policy::Compare;

}  // namespace

const policy::Attribute kMessageType{"hl7", "messageTypes", "hl7.message_type", {"HL7", nullptr}, Compare::Glob,
                                     &message_type_problem, nullptr, nullptr, &message_type_match};
const policy::Attribute kSendingApplication{"hl7", "sendingApplications", "hl7.sending_application", {"HL7", nullptr},
                                            Compare::Glob, &hd_problem};
const policy::Attribute kSendingFacility{"hl7", "sendingFacilities", "hl7.sending_facility", {"HL7", nullptr},
                                         Compare::Glob, &hd_problem};
const policy::Attribute kReceivingApplication{"hl7", "receivingApplications", "hl7.receiving_application",
                                              {"HL7", nullptr}, Compare::Glob, &hd_problem};
const policy::Attribute kReceivingFacility{"hl7", "receivingFacilities", "hl7.receiving_facility", {"HL7", nullptr},
                                           Compare::Glob, &hd_problem};

const std::vector<policy::Attr>& attributes() {
  static const std::vector<policy::Attr> all = {&kMessageType, &kSendingApplication, &kSendingFacility,
                                                &kReceivingApplication, &kReceivingFacility};
  return all;
}

}  // namespace vitrine::netmon::hl7
