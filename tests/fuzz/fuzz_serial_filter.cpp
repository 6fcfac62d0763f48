// libFuzzer target: whatever a serial device sends, cut into reads by the input, through a
// mediated port's filter. Every line that reaches the guest must be within the bound and, when
// asked, printable; nothing is read outside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "vitrine/passthrough/serial_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::passthrough;
  if (size < 3) return 0;
  const size_t max_line = 1 + data[0] % 80;
  const bool printable = data[1] & 1;
  const uint64_t rate = (data[1] & 2) ? 1 + data[2] : 0;
  SerialLineFilter filter({max_line, printable, rate, 0});
  const size_t piece = 1 + data[2] % 64;
  uint64_t now = 0;
  for (size_t at = 3; at < size; at += piece, now += 10'000) {
    const auto out = filter.feed(data + at, std::min(piece, size - at), now);
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
