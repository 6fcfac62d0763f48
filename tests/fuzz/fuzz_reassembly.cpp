// libFuzzer target: any sequence of segments (overlapping, repeated, out of order, far ahead)
// through the reassembler. Checks what it promises: the pending bound holds after every
// segment, every offset is delivered or declared a gap exactly once and in order, and each
// delivered byte is the first one seen at its offset.
// Input: records of [offset:2][length:1][bytes...].
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "vitrine/netmon/reassembly.h"

namespace {

constexpr uint32_t kBase = 0xfffff000;  // near the wrap, so wrap-around is always exercised
constexpr uint32_t kMaxPending = 512;

struct Checker : vitrine::netmon::StreamSink {
  std::vector<int> first_seen;  // by offset: the first byte seen there, or -1
  uint64_t next = 0;
  void on_bytes(const uint8_t* d, size_t n) override {
    for (size_t i = 0; i < n; ++i, ++next)
      if (next >= first_seen.size() || first_seen[next] != d[i]) abort();
  }
  void on_gap(size_t n) override { next += n; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vitrine::netmon::StreamReassembler r(kMaxPending);
  r.start_at(kBase);
  Checker check;
  size_t at = 0;
  while (at + 3 <= size) {
    const uint32_t offset = (uint32_t{data[at]} << 8 | data[at + 1]) % 4096;
    size_t len = data[at + 2];
    at += 3;
    if (len > size - at) len = size - at;
    const std::vector<uint8_t> bytes(data + at, data + at + len);
    at += len;
    if (check.first_seen.size() < offset + len) check.first_seen.resize(offset + len, -1);
    // Only bytes not yet delivered count as seen: a retransmission of delivered bytes changes nothing.
    for (size_t i = 0; i < len; ++i)
      if (offset + i >= check.next && check.first_seen[offset + i] < 0) check.first_seen[offset + i] = bytes[i];
    r.segment(kBase + offset, bytes.data(), bytes.size(), check);
    if (r.pending_bytes() > kMaxPending) abort();
    if (r.delivered() != check.next) abort();
  }
  return 0;
}
