// Writes JSON objects, one per line, to a file or stdout. A log's lines are flushed as they are
// written so that a reader tailing the file (a SIEM shipper, a test) never sees half a record
// and nothing written is lost if the process is killed afterwards; a report's are written as
// the C library buffers them, and all of it by the time the writer is closed.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace vitrine {

class JsonLinesWriter {
 public:
  // A log (events of a running daemon) is appended to across restarts; a report (a replay's
  // flows and events) replaces what the file held, so that two runs never mix.
  enum class Mode { Append, Replace };
  // path "-" writes to stdout. Throws std::runtime_error with the path and errno text when
  // the file cannot be opened.
  explicit JsonLinesWriter(const std::string& path, Mode mode = Mode::Append);
  ~JsonLinesWriter();
  JsonLinesWriter(const JsonLinesWriter&) = delete;
  JsonLinesWriter& operator=(const JsonLinesWriter&) = delete;

  // Returns false when the line could not be written completely (disk full, closed pipe).
  bool write(const nlohmann::json& record);
  // A line already written as one JSON object (JsonLine), without its newline.
  bool write_line(const std::string& json);

 private:
  std::FILE* file_;
  bool owned_;
  bool flush_each_;
};

}  // namespace vitrine
