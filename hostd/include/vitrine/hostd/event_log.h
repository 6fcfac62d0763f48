// hostd's record of what happened to its cabinet, as JSON lines beside netmon's events: the
// guest started, stopped (and why), a restart was scheduled, a crash loop was declared, netmon
// exited or was restarted, an operator stopped or started the guest, a snapshot was taken.
// `vitrine events` reads both files back, merged in time order.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitrine/common/jsonl_writer.h"
#include "vitrine/common/syslog_forwarder.h"

namespace vitrine::hostd {

// `vitrine events` reads back at most this much of the end of each file: enough for thousands
// of events, and bounded however large the file has grown.
inline constexpr size_t kEventsTailBytes = 8 << 20;
// and answers with at most this many events.
inline constexpr size_t kMaxEventsAnswered = 10000;

class HostdEventLog {
 public:
  // Throws std::runtime_error when the file cannot be opened. Each event is also queued to
  // `forward` (syslog) when given; the file stays the record.
  HostdEventLog(const std::string& path, std::string cabinet, SyslogForwarder* forward = nullptr);

  // Writes {"time","event","source":"hostd","cabinet",...fields}; a failed write is logged and
  // counted, never thrown: the cabinet is not stopped because a disk is full.
  void record(const std::string& event, nlohmann::json fields = nlohmann::json::object());
  uint64_t write_failures() const { return write_failures_; }

 private:
  JsonLinesWriter writer_;
  std::string cabinet_;
  SyslogForwarder* forward_;
  uint64_t write_failures_ = 0;
};

// The last `n` events of each (source, path), merged by time, oldest first, each with its
// "source". A line that is not a JSON object is returned as {"event":"unreadable_line"} with
// its source, not dropped. A missing file has no events.
nlohmann::json recent_events(const std::vector<std::pair<std::string, std::string>>& sources, size_t n);

}  // namespace vitrine::hostd
