#include "dicom/dicom_inspector.h"

#include "dicom/dicom_attributes.h"

namespace vitrine::netmon::dicom {

Recognition recognises(const uint8_t* payload, size_t len) { return looks_like_associate_rq(payload, len); }

std::unique_ptr<Inspector> create(std::string_view) { return std::make_unique<DicomInspector>(); }

void DicomInspector::on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                              InspectionOutput& out) {
  PduFramer& framer = framer_[from_initiator ? 0 : 1];
  if (framer.stopped()) return;  // said once; the rest of this direction is not PDUs
  std::vector<Frame> pdus;
  framer.feed(data, len, pdus);
  for (const auto& pdu : pdus) {
    const PduType type = pdu_type(pdu);
    InspectedMessage m;
    m.from_initiator = from_initiator;
    m.judge = false;
    m.type = to_string(type);
    if (type == PduType::AssociateRq && from_initiator && !request_seen_) {
      Association a;
      std::string why;
      if (parse_association(pdu.body(), pdu.kept(), a, why) != ParseStatus::Ok) {
        out.malformed.push_back(&malformed::kAssociationUnparsed);
        continue;
      }
      request_seen_ = true;
      request_at_us_ = time_us;
      framer_[1].protocol().max_pdata = a.max_length_received;  // what the requestor takes
      m.judge = true;
      m.attributes.set(&kCalledAe, a.called_ae);
      m.attributes.set(&kCallingAe, a.calling_ae);
      std::string sop_classes;
      for (const auto& uid : a.abstract_syntaxes) sop_classes += (sop_classes.empty() ? "" : " ") + uid;
      m.attributes.set(&kSopClasses, sop_classes);
    } else if (type == PduType::AssociateRq && from_initiator) {
      // A second request on one connection: a standard acceptor aborts it (PS3.8 9.2, AA-8);
      // one that associated again would act on what netmon has not judged.
      out.malformed.push_back(&malformed::kSecondAssociation);
    } else if ((type == PduType::AssociateAc || type == PduType::AssociateRj) && !from_initiator &&
               request_at_us_) {
      Association accepted;
      std::string why;
      if (type == PduType::AssociateAc && parse_association(pdu.body(), pdu.kept(), accepted, why) == ParseStatus::Ok)
        framer_[0].protocol().max_pdata = accepted.max_length_received;  // what the acceptor takes
      m.ack_latency_seconds = static_cast<double>(time_us - *request_at_us_) * 1e-6;
      m.negative_ack = type == PduType::AssociateRj;
      request_at_us_.reset();
    }
    out.messages.push_back(std::move(m));
  }
  if (framer.stopped()) out.malformed.push_back(framer.fault());
}

InspectorRegistration registration() {
  return {.protocol = "DICOM", .block = "dicom", .naming = Naming::Own,
          .protocol_of = [](const uint8_t*, size_t) { return policy::L7Facts{0, kProtocolDicom}; },
          .patches = {}, .recognises = &recognises, .create = &create, .malformed = malformed::kAll, .refusals = true};
}

}  // namespace vitrine::netmon::dicom
