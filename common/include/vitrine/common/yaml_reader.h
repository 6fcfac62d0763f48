// Reading configuration files written by people (policies, cabinet descriptions): every
// mistake is reported with file, line and column, and an unknown key is a mistake, since a
// misspelt field in a security configuration must never be silently ignored.
#pragma once

// The data path (engine, classifier, inspectors, packet ports) never parses YAML: what it
// needs of a policy is compiled before it sees a frame (docs/DESIGN.md). Its sources are built
// with VITRINE_DATA_PATH, so that an include chain that brings YAML there fails the build.
#ifdef VITRINE_DATA_PATH
#error "YAML on the data path: include vitrine/policy/catalog.h or vitrine/common/config_error.h instead"
#endif

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "vitrine/common/config_error.h"

namespace vitrine {

// A file a person writes holds thousands of values, not hundreds of thousands. YAML's aliases
// (&a ... *a) let a few hundred bytes name millions of them (YAML's "billion laughs"): a 322 KB
// policy of nested aliases once made 9 million peers, 85 s and 620 MB of reading. Reading more
// values than this, aliases expanded, is refused with the position where the bound was hit.
inline constexpr uint64_t kMaxConfigValues = 200'000;
// A site's policy is a few KiB, the largest a few hundred; netmon takes at most 4 MiB over its
// control socket (kMaxPolicyBytes). A file is read to this and no further.
inline constexpr uint64_t kMaxConfigBytes = 4 << 20;

// Walks a YAML tree with the source name at hand, so that every error carries a position.
class YamlReader {
 public:
  using Field = std::function<void(const YAML::Node&, const std::string&)>;

  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  // Parses `text`; a syntax error or an empty document is a ConfigError. `what` names the
  // kind of file in messages ("policy": "the policy is empty").
  static YAML::Node parse(const std::string& text, const std::string& source,
                          const std::string& what);
  // The whole of a file, or a ConfigError naming it ("cannot open the policy file").
  static std::string read_file(const std::string& path, const std::string& what);
  // Runs `body`, turning what yaml-cpp throws inside it into a ConfigError with its mark.
  template <typename F>
  static auto guarded(const std::string& source, F&& body) -> decltype(body()) {
    try {
      return body();
    } catch (const YAML::Exception& e) {
      throw ConfigError(source, e.mark.is_null() ? 0 : e.mark.line + 1,
                        e.mark.is_null() ? 0 : e.mark.column + 1, e.msg);
    }
  }

  const std::string& source() const { return source_; }
  [[noreturn]] void fail(const YAML::Node& at, const std::string& path,
                         const std::string& what) const;
  // Calls the field's reader for each known key; any other key is an error.
  void map(const YAML::Node& node, const std::string& path,
           const std::map<std::string, Field>& fields) const;
  std::string scalar(const YAML::Node& n, const std::string& path) const;
  uint64_t number(const YAML::Node& n, const std::string& path, uint64_t min, uint64_t max) const;
  bool boolean(const YAML::Node& n, const std::string& path) const;
  void list(const YAML::Node& n, const std::string& path, const Field& item) const;
  // Values read so far (keys, items, scalars), each alias counted every time it is read.
  uint64_t values_read() const { return values_read_; }
  // Counts one value read by other means than these (a reader that walks a node itself).
  void count_value(const YAML::Node& at, const std::string& path) const;

  template <typename E>
  E choice(const YAML::Node& n, const std::string& path,
           const std::vector<std::pair<const char*, E>>& options) const {
    const auto text = scalar(n, path);
    std::string known;
    for (const auto& [name, value] : options) {
      if (text == name) return value;
      known += (known.empty() ? "" : ", ") + std::string(name);
    }
    fail(n, path, "expected one of " + known + ", got '" + text + "'");
  }

 private:
  std::string source_;
  mutable uint64_t values_read_ = 0;
};

}  // namespace vitrine
