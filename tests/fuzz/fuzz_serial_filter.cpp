// libFuzzer target: whatever a serial device sends, cut into reads by the input, through a
// mediated port's filter, in line mode or byte mode (max line 0), rate-limited or not. Every
// line that reaches the guest must be within the bound and, when asked, printable; in byte
// mode what passes is the start of what came; every byte is passed or counted as dropped;
// nothing is read outside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "vitrine/passthrough/serial_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::passthrough;
  if (size < 3) return 0;
  const size_t max_line = data[0] % 81;  // 0: byte mode
  const bool printable = data[1] & 1;
  const uint64_t rate = (data[1] & 2) ? 1 + data[2] : 0;
  SerialLineFilter filter({max_line, printable, rate, 0});
  const size_t piece = 1 + data[2] % 64;
  uint64_t now = 0;
  for (size_t at = 3; at < size; at += piece, now += 10'000) {
    const size_t n = std::min(piece, size - at);
    const auto out = filter.feed(data + at, n, now);
    size_t dropped = 0;
    for (const auto& d : out.dropped) {
      if (std::strlen(to_string(d.reason)) == 0) abort();
      dropped += d.bytes;
    }
    if (max_line == 0) {
      if (out.forward.size() + dropped != n) abort();
      if (!out.forward.empty() && std::memcmp(out.forward.data(), data + at, out.forward.size()) != 0) abort();
      continue;
    }
    size_t line = 0;
    for (uint8_t b : out.forward) {
      if (b == '\r' || b == '\n') {
        line = 0;
        continue;
      }
      if (++line > max_line) abort();
      if (printable && (b < 0x20 || b > 0x7e)) abort();
    }
  }
  return 0;
}
