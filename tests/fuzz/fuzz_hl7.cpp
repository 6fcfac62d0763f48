// libFuzzer target: any bytes as an MLLP stream, cut into pieces by the input itself, through
// the framer and the message parser. Nothing may read outside the input, and what the parser
// reports must be printable: it reaches metric labels and events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "hl7/hl7_message.h"

namespace {
void check_printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon::hl7;
  using vitrine::netmon::ParseStatus;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // the first byte chooses how the stream is cut
  MllpFramer framer;
  std::vector<MllpFramer::Frame> frames;
  std::vector<MllpFramer::FramingError> errors;
  for (size_t at = 1; at < size; at += piece) {
    const std::vector<uint8_t> chunk(data + at, data + std::min(size, at + piece));
    framer.feed(chunk.data(), chunk.size(), frames, errors);
  }
  for (const auto& f : frames) {
    if (f.head.size() > MllpFramer::kMaxHeadBytes || f.head.size() > f.length) abort();
    Message m;
    std::string error;
    if (parse_message(f.head.data(), f.head.size(), m, error) == ParseStatus::Ok) {
      for (const auto* field : {&m.sending_application, &m.sending_facility, &m.receiving_application,
                                &m.receiving_facility, &m.message_type, &m.control_id, &m.ack_code})
        check_printable(*field);
    }
  }
  return 0;
}
