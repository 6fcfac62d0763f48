#include "vitrine/netmon/ndpi_attributes.h"

#include <cctype>

namespace vitrine::netmon {

namespace {

// RFC 1035: a name is at most 253 characters written out.
constexpr size_t kMaxHostName = 253;
// Longer than any path a cabinet's web client asks for, short enough to keep a rule readable.
constexpr size_t kMaxHttpPath = 2048;

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

const std::vector<std::string>& http_methods() {
  static const std::vector<std::string> methods = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return methods;
}

// In order: a minVersion condition holds for its version and those after it.
const std::vector<std::string>& tls_versions() {
  static const std::vector<std::string> versions = {"1.0", "1.1", "1.2", "1.3"};
  return versions;
}

}  // namespace

namespace ndpi_attr {
using policy::Compare;
const policy::Attribute kDnsName{"dns", "names", "dns.name", {"DNS", nullptr}, Compare::GlobNoCase, &host_problem};
const policy::Attribute kHttpHost{"http", "hosts", "http.host", {"HTTP", nullptr}, Compare::GlobNoCase, &host_problem};
const policy::Attribute kHttpMethod{"http", "methods", "http.method", {"HTTP", nullptr}, Compare::GlobNoCase, nullptr, &http_methods};
const policy::Attribute kHttpPath{"http", "paths", "http.path", {"HTTP", nullptr}, Compare::Glob, &path_problem};
const policy::Attribute kTlsSni{"tls", "sni", "tls.sni", {"TLS", nullptr}, Compare::GlobNoCase, &host_problem};
const policy::Attribute kTlsVersion{"tls", "minVersion", "tls.version", {"TLS", nullptr}, Compare::AtLeastVersion, nullptr, &tls_versions};
}  // namespace ndpi_attr

std::string tls_version_name(uint16_t wire_version) {
  switch (wire_version) {
    case 0x0301: return "1.0";
    case 0x0302: return "1.1";
    case 0x0303: return "1.2";
    case 0x0304: return "1.3";
    default: return "";
  }
}

}  // namespace vitrine::netmon
