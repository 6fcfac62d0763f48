// The thin side of the HL7 reader: MLLP frames from either direction become messages with
// their policy attributes; acknowledgements are matched to the messages they answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "vitrine/netmon/recognition.h"
#include "hl7/hl7_message.h"
#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon::hl7 {

// An MLLP frame's start followed by an MSH segment.
Recognition recognises(const uint8_t* payload, size_t len);
std::unique_ptr<Inspector> create(std::string_view patient_key);
// What the engine knows of this inspector (netmon/inspectors/registry.cpp).
InspectorRegistration registration();

class Hl7Inspector : public Inspector {
 public:
  // Messages awaiting their acknowledgement: a sender waits for each ACK (original mode), so
  // a handful is normal; more are counted as unanswered and forgotten, oldest first.
  static constexpr size_t kMaxAwaitingAck = 64;

  explicit Hl7Inspector(std::string patient_key) : patient_key_(std::move(patient_key)) {}
  void on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                InspectionOutput& out) override;
  bool reading_message() const override { return framer_[0].inside_frame(); }

 private:
  void message(bool from_initiator, const MllpFramer::Frame& frame, uint64_t time_us, InspectionOutput& out);

  std::string patient_key_;
  MllpFramer framer_[2];  // [0] the initiator's bytes, [1] the responder's
  std::map<std::string, uint64_t> awaiting_ack_[2];  // control id -> sent at, by sender
};

}  // namespace vitrine::netmon::hl7
