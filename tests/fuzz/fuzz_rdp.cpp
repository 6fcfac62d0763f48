// libFuzzer target: any bytes as either side of an RDP connection start, cut into pieces by
// the input itself, through the TPKT framer, the X.224 and MCS readers and the inspector.
// Nothing may read outside the input; a signature is only ever the MS_T120 one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "rdp/rdp_connect.h"
#include "rdp/rdp_inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon;
  if (size < 2) return 0;
  const size_t piece = 1 + data[0] % 64;
  const bool server_first = data[1] & 1;  // a confirm arriving before or after the request
  const std::vector<uint8_t> stream(data + 2, data + size);
  rdp::looks_like_connection_request(stream.data(), stream.size());
  rdp::RdpInspector inspector;
  InspectionOutput out;
  for (size_t at = 0; at < stream.size(); at += piece) {
    const std::vector<uint8_t> chunk(stream.begin() + static_cast<long>(at),
                                     stream.begin() + static_cast<long>(std::min(stream.size(), at + piece)));
    const bool from_client = ((at / piece) % 3 != 0) != server_first;
    inspector.on_bytes(from_client, chunk.data(), chunk.size(), at, out);
  }
  for (const auto& m : out.messages)
    if (!m.signature.empty() && m.signature != rdp::kSignatureMsT120) abort();
  return 0;
}
