#include "vitrine/netmon/checksum.h"

#include <netinet/in.h>

#include <bit>
#include <cstring>

#include "vitrine/netmon/byte_order.h"

namespace vitrine::netmon {

namespace {

// Ones' complement sum of 16-bit words in the machine's byte order, eight bytes at a time:
// the sum is the same whatever the byte order, up to one swap at the end (RFC 1071 §2(B)), and
// every frame of the data path is summed, so this is the loop that must be fast.
template <typename Word>
void add_words(const uint8_t*& data, size_t& len, uint64_t& sum) {
  while (len >= sizeof(Word)) {
    Word word;
    std::memcpy(&word, data, sizeof word);
    sum += word;
    sum += sum < word;  // end-around carry
    data += sizeof word;
    len -= sizeof word;
  }
}

uint64_t native_sum(const uint8_t* data, size_t len) {
  uint64_t sum = 0;
  add_words<uint64_t>(data, len, sum);
  add_words<uint32_t>(data, len, sum);
  add_words<uint16_t>(data, len, sum);
  if (len == 1) {
    const uint8_t last[2] = {data[0], 0};  // the odd byte is the high byte of a word padded with zero
    uint16_t word;
    std::memcpy(&word, last, 2);
    sum += word;
    sum += sum < word;
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

uint32_t pseudo_header_sum(const Decoded& d, uint32_t l4_len) {
  uint32_t sum = 0;
  if (d.ip_version == 4) {
    sum += network_sum(d.l3 + 12, 8);  // source and destination
  } else {
    sum += network_sum(d.l3 + 8, 32);
  }
  sum += d.l4_protocol;
  sum += l4_len & 0xffff;
  sum += l4_len >> 16;
  return sum;
}

}  // namespace

uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t sum) {
  uint64_t total = uint64_t{sum} + network_sum(data, len);
  const uint32_t folded = fold16(total);
  return static_cast<uint16_t>(~folded);
}

ChecksumResult verify_checksums(const Decoded& d) {
  if (d.kind != FrameKind::Ip || d.l3 == nullptr) return ChecksumResult::Ok;
  if (d.ip_version == 4 && internet_checksum(d.l3, d.ip_header_len) != 0) return ChecksumResult::BadIp;
  if (!d.has_l4 || d.fragment) return ChecksumResult::Ok;
  if (d.snap_truncated) return ChecksumResult::Unverifiable;
  const uint8_t* l4 = d.l4;
  const uint32_t l4_len = d.l4_len;
  switch (d.l4_protocol) {
    case IPPROTO_UDP:
      if (be16(l4 + 6) == 0) return d.ip_version == 4 ? ChecksumResult::Ok : ChecksumResult::BadL4;
      [[fallthrough]];
    case IPPROTO_TCP:
    case IPPROTO_ICMPV6:
      return internet_checksum(l4, l4_len, pseudo_header_sum(d, l4_len)) == 0 ? ChecksumResult::Ok
                                                                               : ChecksumResult::BadL4;
    case IPPROTO_ICMP:  // no pseudo-header
      return internet_checksum(l4, l4_len) == 0 ? ChecksumResult::Ok : ChecksumResult::BadL4;
    default: return ChecksumResult::Ok;
  }
}

}  // namespace vitrine::netmon
