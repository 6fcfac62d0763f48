// The thin side of the DICOM reader: the association request is the message a policy judges
// (called and calling AE titles); the acceptor's answer (accept or reject) is matched to it,
// and the PDUs after it are counted.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "vitrine/netmon/recognition.h"
#include "dicom/dicom_pdu.h"
#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon::dicom {

Recognition recognises(const uint8_t* payload, size_t len);
std::unique_ptr<Inspector> create(std::string_view patient_key);
// What the engine knows of this inspector (netmon/inspectors/registry.cpp).
InspectorRegistration registration();

class DicomInspector : public Inspector {
 public:
  void on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                InspectionOutput& out) override;
  bool reading_message() const override { return !request_seen_; }

 private:
  PduFramer framer_[2];  // [0] the requestor's bytes, [1] the acceptor's
  bool request_seen_ = false;
  std::optional<uint64_t> request_at_us_;
};

}  // namespace vitrine::netmon::dicom
