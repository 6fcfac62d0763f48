#include "dicom_attributes.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace vitrine::netmon::dicom {

namespace {

// DICOM PS3.5: an AE title is at most 16 characters.
constexpr size_t kMaxAeTitle = 16;
// PS3.5 9.1: a UID is at most 64 characters.
constexpr size_t kMaxUid = 64;

// AE titles are padded with spaces on the wire (the reader takes them off): so is a pattern.
std::string trim_spaces(const std::string& s) {
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

std::string ae_title_problem(const std::string& written) {
  const std::string t = trim_spaces(written);
  if (t.empty()) return "an AE title is not all spaces";
  const size_t literal = static_cast<size_t>(std::count_if(t.begin(), t.end(), [](char c) { return c != '*'; }));
  if (literal > kMaxAeTitle) return "an AE title is at most 16 characters, got '" + t + "'";
  for (unsigned char c : t)
    if (c < 0x20 || c >= 0x7f || c == '\\') return "an AE title is printable ASCII without '\\', got '" + t + "'";
  return "";
}

std::string uid_problem(const std::string& t) {
  // Digits and dots; '*' and '?' as wildcards.
  if (t.size() > kMaxUid) return "a UID is at most 64 characters, got '" + t + "'";
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '*' && c != '?')
      return "a SOP class is a UID such as 1.2.840.10008.1.1 (digits and dots), got '" + t + "'";
  return "";
}

using policy::Compare;

}  // namespace

const policy::Attribute kCalledAe{"dicom", "calledAeTitles", "dicom.called_ae", {"DICOM", nullptr}, Compare::Glob,
                                  &ae_title_problem, nullptr, &trim_spaces};
const policy::Attribute kCallingAe{"dicom", "callingAeTitles", "dicom.calling_ae", {"DICOM", nullptr}, Compare::Glob,
                                   &ae_title_problem, nullptr, &trim_spaces};
const policy::Attribute kSopClasses{"dicom", "sopClasses", "dicom.sop_classes", {"DICOM", nullptr}, Compare::EachGlob,
                                    &uid_problem};

const std::vector<policy::Attr>& attributes() {
  static const std::vector<policy::Attr> all = {&kCalledAe, &kCallingAe, &kSopClasses};
  return all;
}

}  // namespace vitrine::netmon::dicom
