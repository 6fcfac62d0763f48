#include "vitrine/common/yaml_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <fstream>
#include <sstream>

#include "vitrine/common/utf8.h"

namespace vitrine {

namespace {

// An error echoes what the author wrote: fit for a terminal and a log line, control characters
// (C0, DEL, C1, separators, bidirectional controls) and bytes that are not UTF-8 are written
// as \xNN, and the message is cut at about kMaxErrorBytes
// (a 4 MiB value quoted whole would bury the line that matters, or fill a log).
constexpr size_t kMaxErrorBytes = 1024;

std::string printable(std::string_view s) {
  std::string out;
  size_t at = 0;
  for (; at < s.size() && out.size() < kMaxErrorBytes; ++at) {
    const auto c = static_cast<unsigned char>(s[at]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (const size_t n = c >= 0x80 ? printable_sequence(s, at) : 0; n > 0) {
      out.append(s.substr(at, n));
      at += n - 1;
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (at < s.size()) out += "... (" + std::to_string(s.size() - at) + " more bytes)";
  return out;
}

}  // namespace

ConfigError::ConfigError(std::string source, int line, int column, const std::string& what)
    : std::runtime_error(printable(source) + (line > 0 ? ":" + std::to_string(line) + ":" +
                                                  std::to_string(column)
                                            : std::string()) +
                         ": " + printable(what)),
      source_(std::move(source)),
      line_(line),
      column_(column) {}

YAML::Node YamlReader::parse(const std::string& text, const std::string& source,
                             const std::string& what) {
  // A second document ("---" or "..." at the start of a line after the first's content) would
  // be dropped unread: a reader would see rules that are not enforced. Found by its marker, not
  // by YAML::LoadAll, which loops forever on some malformed input (fuzz_policy found one).
  bool content = false;
  int line_no = 0;
  for (size_t at = 0; at < text.size(); ++line_no) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line(text.data() + at, end - at);
    const bool marker = (line.substr(0, 3) == "---" || line.substr(0, 3) == "...") &&
                        (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
    if (marker && content)
      throw ConfigError(source, line_no + 1, 1, "a second YAML document: the " + what + " is one document (no '" +
                                                    std::string(line.substr(0, 3)) + "' between parts)");
    const size_t first = line.find_first_not_of(" \t\r");
    if (!marker && first != std::string_view::npos && line[first] != '#') content = true;
    at = end + 1;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(source, 0, 0, "the " + what + " is empty");
  return root;
}

std::string YamlReader::read_file(const std::string& path, const std::string& what) {
  // Not a pipe (which would block), a device (/dev/zero never ends) or a directory.
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw ConfigError(path, 0, 0, "cannot open the " + what + " file");
  if (!S_ISREG(st.st_mode)) throw ConfigError(path, 0, 0, "the " + what + " file is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes)
    throw ConfigError(path, 0, 0, "the " + what + " file has " + std::to_string(st.st_size) + " bytes: at most " +
                                      std::to_string(kMaxConfigBytes) + " are read");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, 0, "cannot open the " + what + " file");
  std::string text(kMaxConfigBytes + 1, '\0');  // a file grown since its stat is cut here, and refused
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw ConfigError(path, 0, 0, "cannot read the " + what + " file");
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes)
    throw ConfigError(path, 0, 0, "the " + what + " file has more than " + std::to_string(kMaxConfigBytes) + " bytes");
  return text;
}

void YamlReader::fail(const YAML::Node& at, const std::string& path, const std::string& what) const {
  const auto mark = at.Mark();
  throw ConfigError(source_, mark.is_null() ? 0 : mark.line + 1, mark.is_null() ? 0 : mark.column + 1,
                    path.empty() ? what : path + ": " + what);
}

void YamlReader::count_value(const YAML::Node& at, const std::string& path) const {
  if (++values_read_ > kMaxConfigValues)
    fail(at, path, "more than " + std::to_string(kMaxConfigValues) +
                       " values, aliases expanded: no configuration written by a person is that large "
                       "(aliases nested into each other multiply)");
}

void YamlReader::map(const YAML::Node& node, const std::string& path,
                     const std::map<std::string, Field>& fields) const {
  if (!node.IsMap()) fail(node, path, "expected a mapping");
  std::map<std::string, int> seen;  // key -> its line
  for (const auto& kv : node) {
    count_value(kv.first, path);
    const auto key = kv.first.as<std::string>();
    // YAML keeps both of a key given twice and a reader takes one: the file would say two things.
    if (const auto [it, first] = seen.emplace(key, kv.first.Mark().line + 1); !first)
      fail(kv.first, path, "'" + key + "' is given twice (first on line " + std::to_string(it->second) + ")");
    const auto it = fields.find(key);
    if (it == fields.end()) {
      std::string known;
      for (const auto& f : fields) known += (known.empty() ? "" : ", ") + f.first;
      fail(kv.first, path, "unknown key '" + key + "' (expected one of: " + known + ")");
    }
    it->second(kv.second, path.empty() ? key : path + "." + key);
  }
}

std::string YamlReader::scalar(const YAML::Node& n, const std::string& path) const {
  if (!n.IsScalar()) fail(n, path, "expected a single value");
  count_value(n, path);
  return n.Scalar();
}

uint64_t YamlReader::number(const YAML::Node& n, const std::string& path, uint64_t min,
                            uint64_t max) const {
  const auto text = scalar(n, path);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max)
    fail(n, path,
         "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
             ", got '" + text + "'");
  return v;
}

bool YamlReader::boolean(const YAML::Node& n, const std::string& path) const {
  const auto text = scalar(n, path);
  if (text == "true") return true;
  if (text == "false") return false;
  fail(n, path, "expected true or false, got '" + text + "'");
}

void YamlReader::list(const YAML::Node& n, const std::string& path, const Field& item) const {
  if (!n.IsSequence()) fail(n, path, "expected a list");
  for (size_t i = 0; i < n.size(); ++i) {
    count_value(n[i], path);
    item(n[i], path + "[" + std::to_string(i) + "]");
  }
}

}  // namespace vitrine
