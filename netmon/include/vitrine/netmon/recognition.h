// What the first bytes of a stream say about its protocol. Protocols are recognised on the
// reassembled stream, never on one segment: a recogniser that has seen only a prefix of what
// it needs says NeedMore, and the engine waits (within the hold bounds) for more bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vitrine::netmon {

enum class Recognition : uint8_t { No, Yes, NeedMore };

// The most of a stream's first bytes a recogniser may ask for before it must decide: DICOM's
// association request needs 74, an RDP connection request with its cookie seldom 100; a
// recogniser that has this much and is still unsure answers No.
inline constexpr size_t kMaxRecognitionBytes = 1024;

// Whether `len` bytes of `data` start with `prefix` as far as both go: No on a difference,
// NeedMore when the data ends first, Yes when the whole prefix is there.
inline Recognition starts_with(const uint8_t* data, size_t len, const uint8_t* prefix, size_t prefix_len) {
  for (size_t i = 0; i < prefix_len; ++i) {
    if (i == len) return Recognition::NeedMore;
    if (data[i] != prefix[i]) return Recognition::No;
  }
  return Recognition::Yes;
}

}  // namespace vitrine::netmon
