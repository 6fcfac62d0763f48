// libFuzzer target: any bytes as either side of an RDP connection start, in records of the
// input's own making, through the TPKT framer, the X.224 and MCS readers and the inspector.
// Nothing may read outside the input; a signature is only ever the MS_T120 one.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "rdp/rdp_connect.h"
#include "rdp/rdp_inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon;
  // Records: a byte whose top bit says the direction (1: the client) and whose low 7 bits a
  // length, then that many bytes; so that a seed is a real conversation, in its order.
  const auto inspector = rdp::create("");  // as the engine makes it
  InspectionOutput out;
  std::vector<uint8_t> client;
  for (size_t at = 0; at < size;) {
    const bool from_client = data[at] & 0x80;
    const size_t n = std::min<size_t>(data[at] & 0x7f, size - at - 1);
    const std::vector<uint8_t> chunk(data + at + 1, data + at + 1 + n);
    if (from_client) client.insert(client.end(), chunk.begin(), chunk.end());
    inspector->on_bytes(from_client, chunk.data(), chunk.size(), at, out);
    at += 1 + n;
  }
  rdp::recognises(client.data(), client.size());
  for (const auto& m : out.messages)
    if (!m.signature.empty() && m.signature != rdp::kSignatureMsT120) abort();
  return 0;
}
