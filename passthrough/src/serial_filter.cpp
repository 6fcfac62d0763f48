#include "vitrine/passthrough/serial_filter.h"

#include <algorithm>

namespace vitrine::passthrough {

const char* to_string(SerialDrop d) {
  switch (d) {
    case SerialDrop::TooLong: return "too_long";
    case SerialDrop::NotPrintable: return "not_printable";
    case SerialDrop::RateLimited: return "rate_limited";
  }
  return "too_long";
}

SerialLineFilter::SerialLineFilter(SerialFilterConfig config) : config_(config) {
  if (config_.bytes_per_second != 0 && config_.burst_bytes == 0) config_.burst_bytes = config_.bytes_per_second;
  tokens_ = static_cast<double>(config_.burst_bytes);
}

bool SerialLineFilter::take_tokens(size_t bytes, uint64_t now_us) {
  if (config_.bytes_per_second == 0) return true;
  if (refilled_at_us_ && now_us > *refilled_at_us_)
    tokens_ = std::min(static_cast<double>(config_.burst_bytes),
                       tokens_ + static_cast<double>(now_us - *refilled_at_us_) * 1e-6 *
                                     static_cast<double>(config_.bytes_per_second));
  refilled_at_us_ = now_us;
  if (tokens_ < static_cast<double>(bytes)) return false;
  tokens_ -= static_cast<double>(bytes);
  return true;
}

void SerialLineFilter::end_line(SerialFiltered& out, uint64_t now_us) {
  // line_ holds the line and its terminator, unless the line outgrew the bound.
  const size_t text = line_length_ - 1;
  if (text > config_.max_line_bytes) {
    out.dropped.push_back({SerialDrop::TooLong, line_length_});
  } else if (config_.printable_only && !line_printable_) {
    out.dropped.push_back({SerialDrop::NotPrintable, line_length_});
  } else if (!take_tokens(line_.size(), now_us)) {
    out.dropped.push_back({SerialDrop::RateLimited, line_length_});
  } else {
    out.forward.insert(out.forward.end(), line_.begin(), line_.end());
    ++out.lines_forwarded;
  }
  line_.clear();
  line_length_ = 0;
  line_printable_ = true;
}

SerialFiltered SerialLineFilter::feed(const uint8_t* data, size_t len, uint64_t now_us) {
  SerialFiltered out;
  if (!line_mode()) {
    // Byte mode: what the bucket holds passes, the rest is dropped (one record per feed).
    size_t n = 0;
    while (n < len && take_tokens(1, now_us)) ++n;
    out.forward.assign(data, data + n);
    if (n < len) out.dropped.push_back({SerialDrop::RateLimited, len - n});
    return out;
  }
  for (size_t i = 0; i < len; ++i) {
    const uint8_t b = data[i];
    const bool terminator = b == '\r' || b == '\n';
    if (!terminator && (b < 0x20 || b > 0x7e)) line_printable_ = false;
    ++line_length_;
    // Keep at most the bound and the terminator; a longer line is only counted from there on.
    if (line_.size() <= config_.max_line_bytes || terminator) line_.push_back(b);
    if (terminator) end_line(out, now_us);
  }
  return out;
}

}  // namespace vitrine::passthrough
