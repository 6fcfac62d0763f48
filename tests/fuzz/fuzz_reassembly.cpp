// libFuzzer target: any sequence of segments (overlapping, repeated, out of order, far ahead,
// differing) and acknowledgements through the reassembler, used as the engine uses it (check,
// then accept what passes). Checks what it promises: the pending and retention bounds hold
// after every step; the stream is delivered in order, each offset exactly once; a segment is
// taken only if it agrees with every byte already accepted and not yet acknowledged, so the
// receiver could only ever get one version of each byte; every delivered byte is that one, and
// what is retained of it is too. Input: records of [kind:1] then, for a segment (kind < 0x80),
// [offset:2][length:1][bytes...], for an acknowledgement, [offset:2]. A segment whose kind has
// bit 0x40 starts that many bytes before the stream's first (a keepalive's byte before it, say).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "vitrine/netmon/reassembly.h"

namespace {

constexpr uint32_t kBase = 0xfffff000;  // near the wrap, so wrap-around is always exercised
constexpr uint32_t kMaxPending = 512;
constexpr uint32_t kMaxRetained = 192;  // below the longest segment (255): one longer than the bound
constexpr uint32_t kSpan = 4096;

struct Checker : vitrine::netmon::StreamSink {
  std::vector<int> accepted = std::vector<int>(kSpan + 256, -1);  // by offset: the byte taken there
  uint64_t next = 0;
  void on_bytes(const uint8_t* d, size_t n) override {
    for (size_t i = 0; i < n; ++i, ++next)
      if (accepted[next] != d[i]) abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vitrine::netmon::SegmentCheck;
  vitrine::netmon::StreamReassembler r(kMaxPending, kMaxRetained);
  r.start_at(kBase);
  Checker check;
  uint64_t acknowledged = 0;
  size_t at = 0;
  while (at + 3 <= size) {
    const bool is_ack = data[at] & 0x80;
    const bool before_start = data[at] & 0x40;
    uint32_t offset = (uint32_t{data[at + 1]} << 8 | data[at + 2]) % kSpan;
    at += 3;
    if (is_ack) {
      if (offset <= r.delivered() && offset > acknowledged) acknowledged = offset;
      r.acknowledged(kBase + offset);
      if (r.retained_from() < acknowledged && r.retained_from() < r.delivered()) abort();
      continue;
    }
    if (at >= size) break;
    size_t len = data[at++];
    if (len > size - at) len = size - at;
    std::vector<uint8_t> bytes(data + at, data + at + len);
    at += len;
    if (before_start) {
      // Bytes before the first one the receiver has nothing for: it discards them, and the
      // rest is a segment at offset 0.
      const SegmentCheck c = r.check(kBase - offset, bytes.data(), bytes.size());
      if (offset >= len && c != SegmentCheck::Duplicate) abort();
      if (c != SegmentCheck::New && c != SegmentCheck::Duplicate) continue;
      const size_t cut = std::min<size_t>(offset, len);
      bytes.erase(bytes.begin(), bytes.begin() + static_cast<long>(cut));
      for (size_t i = 0; i < bytes.size(); ++i)
        if (check.accepted[i] >= 0 && i >= acknowledged && check.accepted[i] != bytes[i]) abort();
      for (size_t i = 0; i < bytes.size(); ++i)
        if (check.accepted[i] < 0) check.accepted[i] = bytes[i];
      r.accept(kBase - offset, data + at - len, len, check);
      continue;
    }    const SegmentCheck c = r.check(kBase + offset, bytes.data(), bytes.size());
    if (c != SegmentCheck::New && c != SegmentCheck::Duplicate) continue;
    for (size_t i = 0; i < len; ++i) {
      int& seen = check.accepted[offset + i];
      // Where the receiver may still take a byte, the one taken must be the one already there.
      if (offset + i >= acknowledged && seen >= 0 && seen != bytes[i]) abort();
      if (seen < 0) seen = bytes[i];
    }
    r.accept(kBase + offset, bytes.data(), bytes.size(), check);
    if (r.pending_bytes() > kMaxPending) abort();
    if (r.delivered() - r.retained_from() > kMaxRetained) abort();
    if (r.delivered() != check.next) abort();
    const std::vector<uint8_t> kept = r.retained(r.retained_from(), kSpan);
    for (size_t i = 0; i < kept.size(); ++i)
      if (kept[i] != check.accepted[r.retained_from() + i]) abort();
  }
  return 0;
}
