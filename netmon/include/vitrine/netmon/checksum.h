// The Internet checksum (RFC 1071) and the check of a decoded frame's IP, TCP, UDP and ICMP
// checksums. A segment whose checksum is wrong is discarded by the host it is addressed to, so
// netmon, inline, drops it instead of reading it: otherwise an outsider could show netmon
// bytes the host never reads. Offloads are off on both of netmon's interfaces, so every frame
// it receives carries its real checksums.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vitrine/netmon/decode.h"

namespace vitrine::netmon {

// RFC 1071 checksum of `len` bytes, continuing from `sum` (a partial, unfolded sum of 16-bit
// words in network order).
uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t sum = 0);

enum class ChecksumResult : uint8_t {
  Ok,
  BadIp,          // the IPv4 header checksum
  BadL4,          // TCP, UDP or ICMP over its pseudo-header
  Unverifiable,   // replay only: the capture kept less than the packet (a snap length)
};

// Checks what `d` decoded (an IP frame with its transport header, not a later fragment). A
// first fragment's transport checksum covers bytes it does not carry: only its IP header is
// checked. A UDP checksum of zero means none over IPv4 (RFC 768) and is wrong over IPv6
// (RFC 8200).
ChecksumResult verify_checksums(const Decoded& d);

}  // namespace vitrine::netmon
