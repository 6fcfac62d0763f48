// A mistake in a configuration file written by a person (a policy, a cabinet description),
// with the file, line and column where it is: what every reader of such files throws.
#pragma once

#include <stdexcept>
#include <string>

namespace vitrine {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string source, int line, int column, const std::string& what);
  const std::string& source() const { return source_; }
  int line() const { return line_; }      // 1-based; 0 when the error has no position
  int column() const { return column_; }  // 1-based
 private:
  std::string source_;
  int line_;
  int column_;
};

}  // namespace vitrine
