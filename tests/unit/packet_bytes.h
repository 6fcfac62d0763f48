// Building protocol messages byte by byte in unit tests.
#pragma once

#include <cstdint>
#include <vector>

namespace vitrine::testing {

using Bytes = std::vector<uint8_t>;

// Appends byte by byte: GCC 12 misreads vector::insert after an initializer list (-Warray-bounds).
inline void append(Bytes& b, const Bytes& more) {
  for (uint8_t x : more) b.push_back(x);
}
inline void put_le16(Bytes& b, uint32_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
inline void put_le32(Bytes& b, uint32_t v) {
  put_le16(b, v & 0xffff);
  put_le16(b, v >> 16);
}

}  // namespace vitrine::testing
