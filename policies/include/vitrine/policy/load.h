// Reads a policy from YAML. Every mistake is reported with file, line and column, and an
// unknown key is a mistake: a misspelt field in a security policy must never be ignored.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "vitrine/policy/policy.h"

namespace vitrine::policy {

// The seam to the protocol classifier: the loader checks protocol names against it, so that
// a name the classifier does not know is refused at load time, not silently never matched.
class ProtocolCatalog {
 public:
  virtual ~ProtocolCatalog() = default;
  virtual std::optional<uint16_t> protocol_id(std::string_view name) const = 0;
};

class PolicyError : public std::runtime_error {
 public:
  PolicyError(std::string source, int line, int column, const std::string& what);
  const std::string& source() const { return source_; }
  int line() const { return line_; }      // 1-based; 0 when the error has no position
  int column() const { return column_; }  // 1-based
 private:
  std::string source_;
  int line_;
  int column_;
};

// `source` names the text in messages (the file path). Throws PolicyError.
Policy load_policy_text(const std::string& yaml_text, const std::string& source,
                        const ProtocolCatalog& catalog);
Policy load_policy_file(const std::string& path, const ProtocolCatalog& catalog);

}  // namespace vitrine::policy
