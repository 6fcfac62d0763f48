#include "vitrine/netmon/checksum.h"

#include <netinet/in.h>

#include <bit>
#include <cstring>

#include "vitrine/netmon/byte_order.h"

namespace vitrine::netmon {

namespace {

// Ones' complement sum of 16-bit words in the machine's byte order (RFC 1071 §2(B): the sum is
// the same whatever the byte order, up to one swap at the end). 32-bit words are added into four
// 64-bit accumulators, 16 bytes a step: no word can carry out of 64 bits below 2^32 words, so
// there is no carry to propagate and the four additions run in parallel (about twice as fast as
// one accumulator with an end-around carry). Folding the high half back in is the deferred
// carry. Every frame of the data path is summed: this loop must be fast.
inline uint64_t native_sum(const uint8_t* data, size_t len) {
  uint64_t a = 0, b = 0, c = 0, e = 0;
  for (; len >= 16; data += 16, len -= 16) {
    uint32_t words[4];
    std::memcpy(words, data, 16);
    a += words[0];
    b += words[1];
    c += words[2];
    e += words[3];
  }
  uint64_t sum = a + b + c + e;
  for (; len >= 4; data += 4, len -= 4) {
    uint32_t word;
    std::memcpy(&word, data, 4);
    sum += word;
  }
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);  // 33 bits at most: room for the tails
  if (len >= 2) {
    uint16_t word;
    std::memcpy(&word, data, 2);
    sum += word;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    const uint8_t last[2] = {data[0], 0};  // the odd byte is the high byte of a word padded with zero
    uint16_t word;
    std::memcpy(&word, last, 2);
    sum += word;
  }
  return sum;
}

uint32_t fold16(uint64_t sum) {
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint32_t>(sum);
}

// The folded sum in network order.
uint32_t network_sum(const uint8_t* data, size_t len) {
  const uint32_t native = fold16(native_sum(data, len));
  if constexpr (std::endian::native == std::endian::little)
    return ((native & 0xff) << 8) | (native >> 8);
  return native;
}

// A 16-bit value in network order, as the machine's own sum of 16-bit words sees it.
uint64_t native_word(uint32_t value) {
  const uint16_t v = static_cast<uint16_t>(value);
  if constexpr (std::endian::native == std::endian::little) return static_cast<uint16_t>((v << 8) | (v >> 8));
  return v;
}

// The sum of a transport segment with its pseudo-header, in the machine's byte order. A
// correct checksum makes the folded sum 0xffff in either byte order, so no swap is needed.
uint64_t segment_sum(const Decoded& d) {
  uint64_t sum = native_sum(d.l4, d.l4_len);
  const uint64_t addresses = d.ip_version == 4 ? native_sum(d.l3 + 12, 8) : native_sum(d.l3 + 8, 32);
  sum += addresses;  // both below 2^34: no carry out
  const uint64_t rest = native_word(d.l4_protocol) + native_word(d.l4_len & 0xffff) + native_word(d.l4_len >> 16);
  return sum + rest;
}

bool sums_to_ones(uint64_t native) { return fold16(native) == 0xffff; }

}  // namespace

uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t sum) {
  uint64_t total = uint64_t{sum} + network_sum(data, len);
  const uint32_t folded = fold16(total);
  return static_cast<uint16_t>(~folded);
}

ChecksumResult verify_checksums(const Decoded& d) {
  if (d.kind != FrameKind::Ip || d.l3 == nullptr) return ChecksumResult::Ok;
  if (d.ip_version == 4 && !sums_to_ones(native_sum(d.l3, d.ip_header_len))) return ChecksumResult::BadIp;
  if (!d.has_l4 || d.fragment) return ChecksumResult::Ok;
  if (d.snap_truncated) return ChecksumResult::Unverifiable;
  switch (d.l4_protocol) {
    case IPPROTO_UDP:
      if (be16(d.l4 + 6) == 0) return d.ip_version == 4 ? ChecksumResult::Ok : ChecksumResult::BadL4;
      [[fallthrough]];
    case IPPROTO_TCP:
    case IPPROTO_ICMPV6:
      return sums_to_ones(segment_sum(d)) ? ChecksumResult::Ok : ChecksumResult::BadL4;
    case IPPROTO_ICMP:  // no pseudo-header
      return sums_to_ones(native_sum(d.l4, d.l4_len)) ? ChecksumResult::Ok : ChecksumResult::BadL4;
    default: return ChecksumResult::Ok;
  }
}

}  // namespace vitrine::netmon
