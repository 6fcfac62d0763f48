// One JSON object written as text, field by field, for records written by the thousand (replay's
// flow records): no tree of nodes to build and free as nlohmann::json builds. Strings are
// escaped as nlohmann::json's dump escapes them, bytes that are not UTF-8 replaced by U+FFFD
// (as its error_handler_t::replace does), so that a hostile name cannot break a line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vitrine {

class JsonLine {
 public:
  JsonLine& field(std::string_view key, std::string_view value);
  JsonLine& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  JsonLine& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
  JsonLine& field(std::string_view key, uint64_t value);
  JsonLine& field(std::string_view key, bool value);
  JsonLine& field(std::string_view key, const std::vector<std::string>& strings);
  // A value already written as JSON (an object or an array of them).
  JsonLine& raw(std::string_view key, std::string_view json);
  // The object's text, "{...}".
  std::string str() const { return text_ + "}"; }

  // `s` as a JSON string, quotes included, appended to `out`.
  static void quote(std::string& out, std::string_view s);

 private:
  void key(std::string_view k);
  std::string text_ = "{";
};

}  // namespace vitrine
