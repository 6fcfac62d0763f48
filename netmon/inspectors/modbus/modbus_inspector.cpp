#include "modbus/modbus_inspector.h"

extern "C" {
#include <ndpi/ndpi_protocol_ids.h>
}

#include <vector>

#include "modbus/modbus_attributes.h"

namespace vitrine::netmon::modbus {

Recognition recognises(const uint8_t* payload, size_t len) { return looks_like_request(payload, len); }

std::unique_ptr<Inspector> create(std::string_view) { return std::make_unique<ModbusInspector>(); }

InspectorRegistration registration() {
  // nDPI names Modbus only on port 502 and from a first packet that holds a whole message:
  // named here from the reassembled stream, so a request cut in pieces is named as well.
  return {.protocol = "Modbus", .block = "modbus", .naming = Naming::Provisional,
          .protocol_of = [](const uint8_t*, size_t) { return policy::L7Facts{0, NDPI_PROTOCOL_MODBUS}; },
          .patches = {}, .recognises = &recognises, .create = &create, .malformed = malformed::kAll, .refusals = true};
}

void ModbusInspector::on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t,
                               InspectionOutput& out) {
  MbapFramer& framer = framer_[from_initiator ? 0 : 1];
  if (framer.stopped()) return;  // said once; the rest of this direction is not Modbus
  std::vector<Frame> frames;
  framer.feed(data, len, frames);
  for (const Frame& f : frames) {
    const Message msg = read_message(f);
    InspectedMessage m;
    m.from_initiator = from_initiator;
    m.type = function_name(msg.function);
    if (from_initiator) {
      // A request's function code is 1-127: 0 is none, and the exception bit is the server's.
      if (msg.function == 0 || msg.exception) out.malformed.push_back(&malformed::kBadRequest);
      m.attributes.set(&kFunction, m.type);
    } else {
      m.judge = false;
      m.negative_ack = msg.exception;
    }
    out.messages.push_back(std::move(m));
  }
  if (framer.stopped()) out.malformed.push_back(framer.fault());
}

}  // namespace vitrine::netmon::modbus
