// libFuzzer target: any bytes, as a frame of any link type, must decode or be refused with a
// reason, without reading outside the input; a frame that decodes has its checksums verified
// (the lengths they sum over come from the frame's own headers), and the IPv4 header's sum
// agrees with the one netmon writes into packets it builds. Every outcome has a name
// (names are metric labels).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vitrine/netmon/checksum.h"
#include "vitrine/netmon/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using vitrine::netmon::LinkType;
  // Low 7 bits: the link type (from 4 on, one decode does not know); the top bit: snap-truncated.
  const LinkType link = static_cast<LinkType>(data[0] & 0x7f);
  // A copy of exactly the frame's bytes, so that ASan sees any read past its end.
  const std::vector<uint8_t> frame(data + 1, data + size);
  vitrine::netmon::Decoded d;
  const size_t wire = frame.size() + (data[0] & 0x80 ? 64 : 0);  // sometimes snap-truncated
  const auto malformed = vitrine::netmon::decode_frame(link, frame.data(), frame.size(), wire, d);
  if (std::strcmp(vitrine::netmon::to_string(malformed), "?") == 0) abort();
  if (malformed == vitrine::netmon::Malformed::None) {
    const auto checked = vitrine::netmon::verify_checksums(d);
    // The sum netmon writes into packets it builds agrees with the one it verifies with.
    if (d.ip_version == 4 && d.l3 != nullptr &&
        (vitrine::netmon::internet_checksum(d.l3, d.ip_header_len, 0) == 0) != (checked != vitrine::netmon::ChecksumResult::BadIp))
      abort();
    if (d.has_l4 && vitrine::netmon::l4_name(d.l4_protocol)[0] == '\0') abort();
  }
  return 0;
}
