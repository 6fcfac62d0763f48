// libFuzzer target: any bytes as a DICOM upper-layer stream, cut into pieces by the input
// itself, through the recogniser, the PDU framer and the association parser. Nothing may read
// outside the input, and AE titles that reach events must be printable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dicom/dicom_pdu.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon::dicom;
  using vitrine::netmon::ParseStatus;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 128;
  const std::vector<uint8_t> stream(data + 1, data + size);
  looks_like_associate_rq(stream.data(), stream.size());
  PduFramer framer;
  std::vector<vitrine::netmon::Frame> pdus;
  std::string error;
  for (size_t at = 0; at < stream.size(); at += piece) {
    const std::vector<uint8_t> chunk(stream.begin() + static_cast<long>(at),
                                     stream.begin() + static_cast<long>(std::min(stream.size(), at + piece)));
    const size_t before = pdus.size();
    framer.feed(chunk.data(), chunk.size(), pdus);
    for (size_t i = before; i < pdus.size(); ++i) {
      const auto& pdu = pdus[i];
      if (pdu.kept() > PduHeader::kMaxAssociationPduBytes) abort();
      if (std::strcmp(to_string(pdu_type(pdu)), "?") == 0) abort();  // only PDUs of a type DICOM defines
      Association a;
      if (parse_association(pdu.body(), pdu.kept(), a, error) != ParseStatus::Ok) continue;
      for (const auto* title : {&a.called_ae, &a.calling_ae})
        for (unsigned char c : *title)
          if (c < 0x20 || c > 0x7e) abort();
      framer.protocol().max_pdata = a.max_length_received;  // as the inspector does, on one stream
    }
  }
  return 0;
}
