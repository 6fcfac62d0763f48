// libFuzzer target: any bytes, as a frame of any link type, must decode or be refused with a
// reason, without reading outside the input; a frame that decodes has its checksums verified
// (the lengths they sum over come from the frame's own headers).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vitrine/netmon/checksum.h"
#include "vitrine/netmon/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using vitrine::netmon::LinkType;
  const LinkType link = static_cast<LinkType>(data[0] % 4);
  // A copy of exactly the frame's bytes, so that ASan sees any read past its end.
  const std::vector<uint8_t> frame(data + 1, data + size);
  vitrine::netmon::Decoded d;
  const size_t wire = frame.size() + (data[0] & 0x80 ? 64 : 0);  // sometimes snap-truncated
  if (vitrine::netmon::decode_frame(link, frame.data(), frame.size(), wire, d) == vitrine::netmon::Malformed::None)
    vitrine::netmon::verify_checksums(d);
  return 0;
}
