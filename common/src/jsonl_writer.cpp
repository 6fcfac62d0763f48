#include "vitrine/common/jsonl_writer.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vitrine {

JsonLinesWriter::JsonLinesWriter(const std::string& path, Mode mode)
    : file_(path == "-" ? stdout : std::fopen(path.c_str(), mode == Mode::Append ? "a" : "w")), owned_(path != "-") {
  if (file_ == nullptr) {
    throw std::runtime_error("cannot open " + path + " for writing: " + std::strerror(errno));
  }
}

JsonLinesWriter::~JsonLinesWriter() {
  if (owned_) std::fclose(file_);
}

bool JsonLinesWriter::write(const nlohmann::json& record) {
  // Invalid UTF-8 (from hostile bytes that reach a field) is replaced, never thrown.
  const std::string line =
      record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const bool complete = std::fwrite(line.data(), 1, line.size(), file_) == line.size();
  return std::fflush(file_) == 0 && complete;
}

}  // namespace vitrine
