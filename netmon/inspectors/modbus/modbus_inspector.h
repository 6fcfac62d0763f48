// The thin side of the Modbus/TCP reader: each request the client sends is a message judged
// by its function (a temperature monitor polling a medication refrigerator's gateway reads
// registers; a rule can keep it from writing them); answers are counted, an exception answer
// as a refusal.
#pragma once

#include <memory>
#include <string_view>

#include "modbus/modbus_adu.h"
#include "vitrine/netmon/inspector.h"
#include "vitrine/netmon/recognition.h"

namespace vitrine::netmon::modbus {

// A Modbus/TCP request of a public function code.
Recognition recognises(const uint8_t* payload, size_t len);
std::unique_ptr<Inspector> create(std::string_view patient_key);
// What the engine knows of this inspector (netmon/inspectors/registry.cpp).
InspectorRegistration registration();

class ModbusInspector : public Inspector {
 public:
  void on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                InspectionOutput& out) override;
  bool reading_message() const override { return framer_[0].inside_frame(); }

 private:
  MbapFramer framer_[2];  // [0] the client's bytes, [1] the server's
};

}  // namespace vitrine::netmon::modbus
