// libFuzzer target: any bytes as either side of an RDP connection start, in records of the
// input's own making, through the TPKT framer, the X.224 and MCS readers and the inspector.
// Nothing may read outside the input; a signature is only ever the MS_T120 one, a malformed
// reason one the inspector declares.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "closed_reasons.h"
#include "direction_records.h"
#include "rdp/rdp_connect.h"
#include "rdp/rdp_inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon;
  const auto inspector = rdp::create("");  // as the engine makes it
  InspectionOutput out;
  const std::vector<uint8_t> client = feed_direction_records(*inspector, data, size, out);
  rdp::recognises(client.data(), client.size());
  for (const auto& m : out.messages)
    if (!m.signature.empty() && m.signature != rdp::kSignatureMsT120) abort();
  abort_unless_declared(out, rdp::registration());
  return 0;
}
