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
  // Port 502 only, where nDPI names Modbus too: anywhere else, in policies with no modbus rule,
  // the recogniser would name any flow whose first bytes happen to look like a request, and
  // hold any whose first segment is a byte or two. There it names the flow from its first
  // request as reassembled (nDPI needs one whole in a packet), so a request cut in pieces is
  // named, and read, as one sent whole.
  return {.protocol = "Modbus", .block = "modbus", .naming = Naming::Provisional,
          .protocol_of = [](const uint8_t*, size_t) { return policy::L7Facts{0, NDPI_PROTOCOL_MODBUS}; },
          .patches = {}, .recognises = &recognises, .create = &create, .malformed = malformed::kAll,
          .refusals = true, .responder_port = kModbusPort};
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
    m.type = function_name(from_initiator ? msg.function : msg.function & 0x7f);
    if (from_initiator) {
      // A request's function code is 1-127: 0 is none, and the exception bit is the server's.
      if (msg.function == 0 || msg.exception) out.malformed.push_back(&malformed::kBadRequest);
      // The whole PDU is here (the header's length): its own fields must say the same length.
      const RequestSize size = request_size(f.body() + 1, f.kept() - 1);
      if (size.kind == RequestSize::Kind::CountNotYet ||
          (size.kind == RequestSize::Kind::Known && size.pdu_bytes != f.kept() - 1))
        out.malformed.push_back(&malformed::kLengthMismatch);
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
