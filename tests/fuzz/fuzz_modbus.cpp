// libFuzzer target: any bytes as either side of a Modbus/TCP connection, in records of the
// input's own making, through the MBAP framer and the inspector. Nothing may read outside the
// input; every type is a function name the policy knows, every malformed reason one the
// inspector declares, and only the client's messages are judged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "direction_records.h"
#include "closed_reasons.h"
#include "direction_records.h"
#include "modbus/modbus_attributes.h"
#include "modbus/modbus_inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon;
  const auto inspector = modbus::create("");  // as the engine makes it
  InspectionOutput out;
  const std::vector<uint8_t> client = feed_direction_records(*inspector, data, size, out);
  modbus::recognises(client.data(), client.size());
  inspector->reading_message();
  modbus::registration().protocol_of(client.data(), client.size());
  const auto& names = modbus::kFunction.values();
  for (const auto& m : out.messages) {
    if (std::find(names.begin(), names.end(), m.type) == names.end()) abort();
    if (m.judge != m.from_initiator) abort();
  }
  abort_unless_declared(out, modbus::registration());
  return 0;
}
