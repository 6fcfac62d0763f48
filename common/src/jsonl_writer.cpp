#include "vitrine/common/jsonl_writer.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vitrine {

JsonLinesWriter::JsonLinesWriter(const std::string& path, Mode mode)
    : file_(path == "-" ? stdout : std::fopen(path.c_str(), mode == Mode::Append ? "a" : "w")),
      owned_(path != "-"),
      flush_each_(mode == Mode::Append) {
  if (file_ == nullptr) {
    throw std::runtime_error("cannot open " + path + " for writing: " + std::strerror(errno));
  }
}

JsonLinesWriter::~JsonLinesWriter() {
  if (owned_) std::fclose(file_);
}

bool JsonLinesWriter::write(const nlohmann::json& record) {
  // Invalid UTF-8 (from hostile bytes that reach a field) is replaced, never thrown.
  return write_line(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool JsonLinesWriter::write_line(const std::string& json) {
  const bool complete = std::fwrite(json.data(), 1, json.size(), file_) == json.size() && std::fputc('\n', file_) != EOF;
  return (!flush_each_ || std::fflush(file_) == 0) && complete;
}

}  // namespace vitrine
