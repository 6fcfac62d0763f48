// What a mediated serial port lets through from a host device to the guest: byte by byte, or
// whole lines that pass a filter (a scanner may send only printable lines up to N bytes), at
// most so many bytes a second. A line is forwarded whole or not at all; what is dropped is
// reported with its reason and length, never its content (a wristband scan is a patient's id).
// Pure: time is given, nothing is read or written here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitrine::passthrough {

struct SerialFilterConfig {
  // Line mode: lines end at CR or LF. 0: no line filter, bytes pass as they come.
  size_t max_line_bytes = 0;
  bool printable_only = false;  // line mode: only 0x20-0x7e besides the terminator
  // 0: no limit. Otherwise a token bucket: this many bytes a second, bursts of burst_bytes.
  uint64_t bytes_per_second = 0;
  uint64_t burst_bytes = 0;
};

enum class SerialDrop { TooLong, NotPrintable, RateLimited };
const char* to_string(SerialDrop d);  // "too_long", "not_printable", "rate_limited"

struct SerialDropped {
  SerialDrop reason;
  size_t bytes;
};

struct SerialFiltered {
  std::vector<uint8_t> forward;       // to the guest
  std::vector<SerialDropped> dropped;
  uint64_t lines_forwarded = 0;
};

class SerialLineFilter {
 public:
  explicit SerialLineFilter(SerialFilterConfig config);
  // Bytes from the device at `now_us` (monotonic).
  SerialFiltered feed(const uint8_t* data, size_t len, uint64_t now_us);
  bool line_mode() const { return config_.max_line_bytes != 0; }

 private:
  bool take_tokens(size_t bytes, uint64_t now_us);
  void end_line(SerialFiltered& out, uint64_t now_us);

  SerialFilterConfig config_;
  std::vector<uint8_t> line_;   // the line so far, at most max_line_bytes + 1
  size_t line_length_ = 0;      // its length, counting what was not kept
  bool line_printable_ = true;
  double tokens_ = 0;
  std::optional<uint64_t> refilled_at_us_;
};

}  // namespace vitrine::passthrough
